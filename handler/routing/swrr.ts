/**
 * Smooth weighted round-robin, the algorithm of nginx's ngx_http_upstream_get_peer: on every
 * pick each candidate's current weight grows by its weight, the largest current weight wins,
 * and the winner pays back the total. Over any window of sum(weights) picks every candidate is
 * chosen exactly `weight` times, spread out rather than in bursts (weights 5/1/1 give
 * a a b a c a a, not a a a a a b c). Candidates that are skipped (unhealthy, excluded) neither
 * gain nor lose, as nginx skips down peers.
 */

/** One candidate for this pick. */
export type SwrrCandidate = { readonly id: string; readonly weight: number };

/** Current weights of one candidate group, kept between picks. */
export type SwrrState = Map<string, number>;

/**
 * Picks one candidate (weights > 0) and updates `state`; null when there is none. Ties go to
 * the earliest candidate, so the sequence is a deterministic function of the inputs.
 */
export function swrrPick<C extends SwrrCandidate>(state: SwrrState, candidates: readonly C[]): C | null {
  let best: C | null = null;
  let bestCurrent = 0;
  let total = 0;
  for (const c of candidates) {
    if (!(c.weight > 0)) continue;
    const current = (state.get(c.id) ?? 0) + c.weight;
    state.set(c.id, current);
    total += c.weight;
    if (best === null || current > bestCurrent) {
      best = c;
      bestCurrent = current;
    }
  }
  if (best !== null) state.set(best.id, bestCurrent - total);
  return best;
}
