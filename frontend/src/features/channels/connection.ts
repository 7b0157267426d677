import type { ChannelState } from "../../lib/apiTypes";
import { formatClock } from "../../lib/format";

/** The last error's kind (ingest's ApiErrorKind), in the words the Channels page uses. */
export const ERROR_KIND_WORDS: Record<string, string> = {
  unreachable: "Unreachable",
  unavailable: "Channel unavailable",
  throttled: "Throttled by the channel",
  expired_token: "Sign-in expired or refused",
  refused: "Refused by the channel",
  unreadable: "Unreadable answer",
};

/** "Live · amazon-sp-api-orders-v0", "Simulated · blinkit-simulated-feed (no public seller API)". */
export function connectionLine(state: ChannelState): string {
  const connection = state.connection;
  if (!connection) return "unknown";
  const mode = connection.mode === "live" ? "Live" : "Simulated";
  const parts = [`${mode}${connection.sandbox ? " sandbox" : ""} · ${connection.connector}`];
  if (state.channel === "blinkit") parts.push("(Blinkit has no public seller API)");
  return parts.join(" ");
}

/** "42% · read up to 12 Oct 08:00" while the first connection imports history; null otherwise. */
export function backfillLine(state: ChannelState, now: number = Date.now()): string | null {
  const backfill = state.backfill;
  if (!backfill) return null;
  if (backfill.done) return "done";
  const percent = Math.round(state.backfillPercent ?? 0);
  const reached = backfill.reached ? ` · read up to ${formatClock(backfill.reached, now)}` : "";
  return `${percent}%${reached}`;
}
