import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameAssembler, fragmentPayload, framePayload, MAX_FRAGMENT_BODY, PayloadKind } from '../../../../handler/raft/transport/frames.ts';
import { ErrorCode } from '../../../../shared/errors.ts';

function assemble(a: FrameAssembler, frags: Uint8Array[]): Array<{ kind: number; body: Uint8Array }> {
  const out: Array<{ kind: number; body: Uint8Array }> = [];
  for (const f of frags) {
    const r = a.push(f);
    if (r.kind === 'error') throw r.error;
    if (r.kind === 'payload') out.push({ kind: r.payloadKind, body: r.body });
  }
  return out;
}

describe('raft link framing', () => {
  it('sends a small payload as one fragment with the final header', () => {
    const frags = fragmentPayload(framePayload(PayloadKind.Batch, new Uint8Array([7, 8])));
    assert.equal(frags.length, 1);
    assert.deepEqual([...frags[0]!], [0, PayloadKind.Batch, 7, 8]);
  });

  it('cuts a 300 KB payload into Noise-sized fragments and reassembles it exactly', () => {
    const body = new Uint8Array(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const frags = fragmentPayload(framePayload(PayloadKind.Batch, body));
    assert.equal(frags.length, Math.ceil((body.length + 1) / MAX_FRAGMENT_BODY));
    for (const f of frags) assert.ok(f.length <= MAX_FRAGMENT_BODY + 1);
    assert.deepEqual(frags.slice(0, -1).map((f) => f[0]), frags.slice(0, -1).map(() => 1));
    const [got] = assemble(new FrameAssembler(1 << 20), frags);
    assert.equal(got!.kind, PayloadKind.Batch);
    assert.deepEqual(got!.body, body);
  });

  it('reassembles two payloads sent back to back', () => {
    const a = fragmentPayload(framePayload(PayloadKind.ControlRequest, new Uint8Array(100_000).fill(1)));
    const b = fragmentPayload(framePayload(PayloadKind.ControlResponse, new Uint8Array([2])));
    const got = assemble(new FrameAssembler(1 << 20), [...a, ...b]);
    assert.deepEqual(got.map((g) => [g.kind, g.body.length]), [
      [PayloadKind.ControlRequest, 100_000],
      [PayloadKind.ControlResponse, 1],
    ]);
  });

  it('refuses a payload over its limit and stays failed', () => {
    const a = new FrameAssembler(1000);
    const frags = fragmentPayload(framePayload(PayloadKind.Batch, new Uint8Array(5000)), 600);
    assert.equal(a.push(frags[0]!).kind, 'partial');
    const r = a.push(frags[1]!);
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' && (r.error as { code?: string }).code, ErrorCode.FRAME_TOO_LARGE);
    assert.equal(a.push(frags[2]!).kind, 'error');
  });

  it('refuses unknown header bits and an empty fragment', () => {
    const r1 = new FrameAssembler(100).push(new Uint8Array([0x80, 1]));
    assert.equal(r1.kind === 'error' && (r1.error as { code?: string }).code, ErrorCode.BAD_FRAME);
    const r2 = new FrameAssembler(100).push(new Uint8Array(0));
    assert.equal(r2.kind === 'error' && (r2.error as { code?: string }).code, ErrorCode.BAD_FRAME);
  });
});
