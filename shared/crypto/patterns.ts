/**
 * Noise handshake patterns (Noise spec rev 34, sections 7 and 9) and protocol-name parsing.
 * Only the DH, cipher and hash this project implements are accepted: 25519, ChaChaPoly, and
 * BLAKE2s or SHA256.
 */
import { ErrorCode, codedError } from '../errors.ts';
import type { NoiseHashName } from './types.ts';

/** A token of a message pattern. */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

/** A handshake pattern: pre-messages and the alternating message patterns (initiator first). */
export interface HandshakePattern {
  readonly name: string;
  /** Pre-messages (section 7.1); only "s" occurs in the patterns offered here. */
  readonly initiatorPreMessage: readonly 's'[];
  readonly responderPreMessage: readonly 's'[];
  readonly messages: readonly (readonly Token[])[];
  /** True when a psk modifier applies (section 9.2: "e" then also calls MixKey). */
  readonly psk: boolean;
}

type BasePattern = Omit<HandshakePattern, 'name' | 'psk'>;

// Section 7.4 (interactive fundamental patterns) and 7.5 (one-way patterns).
const BASE: Record<string, BasePattern> = {
  N: { initiatorPreMessage: [], responderPreMessage: ['s'], messages: [['e', 'es']] },
  K: { initiatorPreMessage: ['s'], responderPreMessage: ['s'], messages: [['e', 'es', 'ss']] },
  X: { initiatorPreMessage: [], responderPreMessage: ['s'], messages: [['e', 'es', 's', 'ss']] },
  NN: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e'], ['e', 'ee']] },
  NK: { initiatorPreMessage: [], responderPreMessage: ['s'], messages: [['e', 'es'], ['e', 'ee']] },
  NX: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e'], ['e', 'ee', 's', 'es']] },
  KN: { initiatorPreMessage: ['s'], responderPreMessage: [], messages: [['e'], ['e', 'ee', 'se']] },
  KK: { initiatorPreMessage: ['s'], responderPreMessage: ['s'], messages: [['e', 'es', 'ss'], ['e', 'ee', 'se']] },
  KX: { initiatorPreMessage: ['s'], responderPreMessage: [], messages: [['e'], ['e', 'ee', 'se', 's', 'es']] },
  XN: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e'], ['e', 'ee'], ['s', 'se']] },
  XK: { initiatorPreMessage: [], responderPreMessage: ['s'], messages: [['e', 'es'], ['e', 'ee'], ['s', 'se']] },
  XX: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IN: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e', 's'], ['e', 'ee', 'se']] },
  IK: { initiatorPreMessage: [], responderPreMessage: ['s'], messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
  IX: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e', 's'], ['e', 'ee', 'se', 's', 'es']] },
};

function fail(message: string): never {
  throw codedError(RangeError, ErrorCode.BAD_CONFIG, message);
}

/**
 * The pattern for a name such as "IK", "XX" or "IKpsk2" (section 9.2: psk0 puts a psk token at
 * the start of the first message, pskN at the end of message N; modifiers join with "+").
 */
export function handshakePattern(name: string): HandshakePattern {
  const match = /^([NKXI]{1,2}?)((?:psk\d+)(?:\+psk\d+)*)?$/.exec(name);
  const base = match ? BASE[match[1]!] : undefined;
  if (!match || base === undefined) {
    return fail(`The handshake pattern "${name}" is unknown: expected one of ${Object.keys(BASE).join(', ')} with optional pskN modifiers`);
  }
  const messages = base.messages.map((m) => [...m]);
  const modifiers = match[2] ? match[2].split('+') : [];
  for (const modifier of modifiers) {
    const n = Number(modifier.slice(3));
    if (n > messages.length) fail(`The modifier ${modifier} in "${name}" points past message ${messages.length}`);
    if (n === 0) messages[0]!.unshift('psk');
    else messages[n - 1]!.push('psk');
  }
  return Object.freeze({ ...base, name, messages: Object.freeze(messages.map((m) => Object.freeze(m))), psk: modifiers.length > 0 });
}

/** A parsed protocol name (section 8). */
export interface ProtocolName {
  readonly name: string;
  readonly pattern: HandshakePattern;
  readonly hash: NoiseHashName;
}

const parsed = new Map<string, ProtocolName>();

/**
 * Parses "Noise_<pattern>_25519_ChaChaPoly_<BLAKE2s|SHA256>"; throws BAD_CONFIG otherwise.
 * Results are memoized (a handful of names per process), since every handshake asks again.
 */
export function parseProtocolName(name: string): ProtocolName {
  const known = parsed.get(name);
  if (known !== undefined) return known;
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') {
    fail(`The protocol name "${name}" is malformed: expected Noise_<pattern>_25519_ChaChaPoly_<hash>`);
  }
  const [, patternName, dh, cipher, hash] = parts as [string, string, string, string, string];
  if (dh !== '25519') fail(`The protocol "${name}" uses DH ${dh}: expected 25519`);
  if (cipher !== 'ChaChaPoly') fail(`The protocol "${name}" uses cipher ${cipher}: expected ChaChaPoly`);
  if (hash !== 'BLAKE2s' && hash !== 'SHA256') fail(`The protocol "${name}" uses hash ${hash}: expected BLAKE2s or SHA256`);
  const result: ProtocolName = Object.freeze({ name, pattern: handshakePattern(patternName), hash });
  if (parsed.size < 64) parsed.set(name, result);
  return result;
}
