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

const CIRCUIT_TEXT: Record<Circuit, { label: string; meaning: string }> = {
  closed: { label: "Closed", meaning: "healthy" },
  half_open: { label: "Half-open", meaning: "probing" },
  open: { label: "Open", meaning: "failing" },
};

export function CircuitBadge({ circuit }: { circuit: Circuit }) {
  const text = CIRCUIT_TEXT[circuit] ?? { label: circuit, meaning: "" };
  return (
    <span className={`badge circuit-${circuit}`}>
      <span className="dot" aria-hidden="true" />
      {text.label}
      {text.meaning && <span className="badge-note"> · {text.meaning}</span>}
    </span>
  );
}
