/**
 * Types of exit selection: what the replicated state says about exits, what a stream asks
 * for, and what the selector answers.
 */
import type { HealthSnapshot } from './health.ts';

/** Operator-set state of an exit. Draining and disabled exits take no new streams. */
export type ExitAdminState = 'active' | 'draining' | 'disabled';

/** An exit as the replicated control state describes it. */
export type ExitDescriptor = {
  readonly id: string;
  readonly region: string;
  /** Integer share of new streams, 0-1000000; 0 takes none. */
  readonly weight: number;
  /** Default 'active'. */
  readonly state?: ExitAdminState;
};

/** What one new stream asks for. */
export type PickRequest = {
  /** Regions the user may exit from; absent means every region. An empty list allows none. */
  readonly allowedRegions?: readonly string[];
  /** Preferred region. */
  readonly region?: string;
  /**
   * When the preferred region has no usable exit: false (default) falls back to any allowed
   * region and says so in the result; true answers 'no_exit'.
   */
  readonly strictRegion?: boolean;
  /** Exits not to use (already tried for this stream). */
  readonly exclude?: Iterable<string>;
};

/** Why no exit could be chosen. */
export type NoExitDetail =
  | 'none_configured'
  | 'region_not_allowed'
  | 'all_unavailable'
  | 'all_excluded'
  | 'retries_exhausted';

/** The selector's answer. */
export type PickResult =
  | {
      readonly ok: true;
      readonly exitId: string;
      readonly region: string;
      /** This stream is the half-open probe: report its outcome promptly. */
      readonly probe: boolean;
      /** The preferred region had no usable exit; another allowed region was used. */
      readonly fallback: boolean;
    }
  | { readonly ok: false; readonly reason: 'no_exit'; readonly detail: NoExitDetail; readonly message: string };

/** One exit's state for metrics and the admin API. */
export type ExitSnapshot = ExitDescriptor & { readonly state: ExitAdminState; readonly health: HealthSnapshot };
