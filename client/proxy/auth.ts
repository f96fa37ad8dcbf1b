/**
 * Local proxy credentials (RFC 1929 user/pass for SOCKS5, RFC 7617 Basic for HTTP), checked
 * in constant time so response timing says nothing about how much of a guess was right.
 */

/** One accepted username/password pair. */
export type ProxyCredentials = { readonly username: string; readonly password: string };

const utf8 = new TextEncoder();

/**
 * Compares `input` against `secret` in time that depends only on `input.length` (the
 * attacker's own length), never on where the first difference lies or on the secret's length.
 */
export function constantTimeEqual(input: Uint8Array, secret: Uint8Array): boolean {
  let diff = input.length ^ secret.length;
  const n = secret.length;
  for (let i = 0; i < input.length; i++) {
    // Index modulo the secret so the loop shape is the same whatever the lengths are.
    const s = n === 0 ? 0 : (secret[i % n] as number);
    diff |= (input[i] as number) ^ s;
  }
  return diff === 0;
}

/**
 * Returns the username of the entry that matches, or null. Every entry is compared, and the
 * username and password comparisons are not short-circuited.
 */
export function matchCredentials(
  users: readonly ProxyCredentials[],
  username: Uint8Array,
  password: Uint8Array,
): string | null {
  let found: string | null = null;
  for (const user of users) {
    const u = constantTimeEqual(username, utf8.encode(user.username));
    const p = constantTimeEqual(password, utf8.encode(user.password));
    if (u && p && found === null) found = user.username;
  }
  return found;
}
