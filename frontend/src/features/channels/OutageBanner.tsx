import { Link } from "react-router";
import { useNow } from "../../lib/useNow";
import { describeOutage, failingChannels } from "./health";
import { useChannels } from "./queries";

/** On every page: which channels are failing right now, in words, with a way to the details. */
export function OutageBanner() {
  const channels = useChannels();
  const now = useNow();
  const failing = failingChannels(channels.data);
  return (
    <div className="outage-slot" aria-live="polite">
      {failing.length > 0 && (
        <section className="outage-banner" aria-label="Channel outages">
          <span className="dot" aria-hidden="true" />
          <ul>
            {failing.map((state) => (
              <li key={state.channel}>{describeOutage(state, now)}</li>
            ))}
          </ul>
          <p className="outage-note">
            New orders from {failing.length === 1 ? "this channel" : "these channels"} arrive once it recovers; nothing is
            lost. <Link to="/channels">Channel details</Link>
          </p>
        </section>
      )}
    </div>
  );
}

/** The number of failing channels, for the navigation's badge. */
export function useFailingChannelCount(): number {
  return failingChannels(useChannels().data).length;
}
