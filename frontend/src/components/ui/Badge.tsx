import type { Channel, ChannelState, OrderStatus } from "../../lib/apiTypes";
import { humanize } from "../../lib/format";

export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{humanize(status)}</span>;
}

const CHANNEL_NAMES: Record<Channel, string> = { website: "Website", amazon: "Amazon", blinkit: "Blinkit" };

export function channelName(channel: Channel): string {
  return CHANNEL_NAMES[channel] ?? channel;
}

export function ChannelTag({ channel }: { channel: Channel }) {
  return <span className={`channel-tag channel-${channel}`}>{channelName(channel)}</span>;
}

type Circuit = ChannelState["circuit"];

/** A channel's health in plain words: the breaker's own names (closed, open) mean the opposite
 * of what they sound like to anyone but an engineer. */
export const HEALTH_WORDS: Record<Circuit, string> = {
  closed: "Healthy",
  half_open: "Recovering",
  open: "Failing",
};

export function healthWord(circuit: Circuit): string {
  return HEALTH_WORDS[circuit] ?? circuit;
}

export function CircuitBadge({ circuit }: { circuit: Circuit }) {
  return (
    <span className={`badge circuit-${circuit}`}>
      <span className="dot" aria-hidden="true" />
      {healthWord(circuit)}
    </span>
  );
}
