import { channelName, healthWord } from "../../components/ui/Badge";
import type { ChannelState } from "../../lib/apiTypes";
import { formatClock, formatCount } from "../../lib/format";

/** A channel is in trouble while its breaker is not closed or a poll failed since the last good one. */
export function isFailing(state: ChannelState): boolean {
  return state.circuit !== "closed" || !!state.failingSince;
}

export function failingChannels(states: readonly ChannelState[] | undefined): ChannelState[] {
  return (states ?? []).filter(isFailing);
}

/** "Website failing since 08:36, 3 failed polls, last error: 503 from channel". */
export function describeOutage(state: ChannelState, now: number = Date.now()): string {
  const word = state.circuit === "half_open" ? healthWord("half_open") : healthWord("open");
  const since = state.failingSince ?? state.lastErrorAt;
  const parts = [`${channelName(state.channel)} ${word.toLowerCase()}${since ? ` since ${formatClock(since, now)}` : ""}`];
  if (state.failedPolls > 0) {
    parts.push(`${formatCount(state.failedPolls)} failed ${state.failedPolls === 1 ? "poll" : "polls"}`);
  }
  if (state.lastError) parts.push(`last error: ${state.lastError}`);
  return parts.join(", ");
}
