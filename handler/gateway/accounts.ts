/**
 * Per-user state on this handler: open sessions (for the sessions-per-user limit and for
 * closing them when the user is disabled), handshakes holding a slot, and the user's bandwidth
 * bucket, shared by every stream of every session of the user, both directions together
 * (config limits.userBandwidth). An account exists while the user has a session or a slot.
 */
import type { Limits } from '../../shared/config/common.ts';
import type { ClusterSettings, UserRecord } from '../state/types.ts';
import { TokenBucket } from './token-bucket.ts';

/** Something an account can close: a client session. */
export interface Closable {
  /** Closes the session because of `reason` (a BlockReason or 'shutdown'). */
  closeFor(reason: string): void;
}

/** One user's live state on this handler. */
export class UserAccount<S extends Closable = Closable> {
  readonly id: string;
  readonly sessions = new Set<S>();
  reserved = 0;
  readonly bucket: TokenBucket;

  constructor(id: string, bucket: TokenBucket) {
    this.id = id;
    this.bucket = bucket;
  }

  get occupied(): number {
    return this.sessions.size + this.reserved;
  }
}

/** A session slot taken during a handshake; give it back or turn it into a session. */
export interface Reservation<S extends Closable = Closable> {
  readonly account: UserAccount<S>;
  /** Gives the slot back (handshake failed). Idempotent. */
  release(): void;
  /** Turns the slot into an open session. */
  commit(session: S): void;
}

/** Options of Accounts. */
export interface AccountsOptions {
  limits: Pick<Limits, 'maxSessionsPerUser' | 'userBandwidth'>;
  settings: () => ClusterSettings;
  now?: () => number;
}

/** Every user with a session or a handshake in progress on this handler. */
export class Accounts<S extends Closable = Closable> {
  readonly #o: AccountsOptions;
  readonly #byId = new Map<string, UserAccount<S>>();

  constructor(options: AccountsOptions) {
    this.#o = options;
  }

  /** Sessions this user may hold at once. */
  maxSessions(user: UserRecord): number {
    return user.maxSessions ?? this.#o.settings().defaultMaxSessions ?? this.#o.limits.maxSessionsPerUser;
  }

  /** The user's bandwidth in bytes per second. */
  rate(user: UserRecord): number {
    return user.rateLimit ?? this.#o.settings().defaultRateLimit ?? this.#o.limits.userBandwidth.rate;
  }

  /** Takes a session slot for `user`, or null when the user is at its session limit. */
  reserve(user: UserRecord): Reservation<S> | null {
    const account = this.#account(user);
    if (account.occupied >= this.maxSessions(user)) {
      this.#forgetIfIdle(account);
      return null;
    }
    account.reserved++;
    let held = true;
    return {
      account,
      release: () => {
        if (!held) return;
        held = false;
        account.reserved--;
        this.#forgetIfIdle(account);
      },
      commit: (session) => {
        if (!held) return;
        held = false;
        account.reserved--;
        account.sessions.add(session);
      },
    };
  }

  /** A session ended. */
  remove(userId: string, session: S): void {
    const account = this.#byId.get(userId);
    if (account === undefined) return;
    account.sessions.delete(session);
    this.#forgetIfIdle(account);
  }

  /** The user's account, if it has sessions here. */
  get(userId: string): UserAccount<S> | undefined {
    return this.#byId.get(userId);
  }

  /** Closes every session of the user (disabled, deleted, revoked, quota). */
  closeUser(userId: string, reason: string): number {
    const account = this.#byId.get(userId);
    if (account === undefined) return 0;
    const sessions = [...account.sessions];
    for (const s of sessions) s.closeFor(reason);
    return sessions.length;
  }

  /** The user record changed: apply a new rate to the bucket at once. */
  userChanged(user: UserRecord): void {
    const account = this.#byId.get(user.id);
    if (account === undefined) return;
    account.bucket.configure(this.rate(user), this.#o.limits.userBandwidth.burst);
  }

  /** Settings changed: re-derive every bucket whose user has no own rate. */
  settingsChanged(users: (id: string) => UserRecord | undefined): void {
    for (const account of this.#byId.values()) {
      const user = users(account.id);
      if (user !== undefined) account.bucket.configure(this.rate(user), this.#o.limits.userBandwidth.burst);
    }
  }

  /** Every open session. */
  *sessions(): IterableIterator<S> {
    for (const account of this.#byId.values()) yield* account.sessions;
  }

  #account(user: UserRecord): UserAccount<S> {
    let account = this.#byId.get(user.id);
    if (account === undefined) {
      const o = this.#o;
      const bucket = new TokenBucket({ rate: this.rate(user), burst: o.limits.userBandwidth.burst, ...(o.now === undefined ? {} : { now: o.now }) });
      account = new UserAccount<S>(user.id, bucket);
      this.#byId.set(user.id, account);
    }
    return account;
  }

  #forgetIfIdle(account: UserAccount<S>): void {
    if (account.occupied === 0 && this.#byId.get(account.id) === account) this.#byId.delete(account.id);
  }
}
