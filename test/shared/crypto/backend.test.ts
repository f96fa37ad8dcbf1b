import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { cryptoBackend, availableCryptoBackends } from '../../../shared/crypto/backend.ts';

describe('crypto backend selection', () => {
  it('offers the native backend on Node and Deno, preferred over noble', () => {
    assert.deepEqual(availableCryptoBackends().map((b) => b.name), ['native', 'noble']);
    assert.equal(cryptoBackend('auto').name, 'native');
  });

  it('returns the backend asked for by name', () => {
    assert.equal(cryptoBackend('noble').name, 'noble');
    assert.equal(cryptoBackend('native').name, 'native');
  });

  it('follows APFSDS_CRYPTO when no name is given', () => {
    const saved = process.env.APFSDS_CRYPTO;
    try {
      process.env.APFSDS_CRYPTO = 'noble';
      assert.equal(cryptoBackend().name, 'noble');
      process.env.APFSDS_CRYPTO = 'native';
      assert.equal(cryptoBackend().name, 'native');
      process.env.APFSDS_CRYPTO = 'aes';
      assert.throws(() => cryptoBackend(), { code: ErrorCode.BAD_CONFIG });
    } finally {
      if (saved === undefined) delete process.env.APFSDS_CRYPTO;
      else process.env.APFSDS_CRYPTO = saved;
    }
  });

  it('refuses an unknown backend name', () => {
    assert.throws(() => cryptoBackend('openssl' as 'native'), { code: ErrorCode.BAD_CONFIG });
  });
});
