import { channelName, CircuitBadge } from "../../components/ui/Badge";
import { ErrorState, Skeleton } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import type { ChannelState } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { formatClock, formatCount } from "../../lib/format";
import { useSessionState } from "../../lib/services";
import { backfillLine, connectionLine, ERROR_KIND_WORDS } from "./connection";
import { describeOutage, isFailing } from "./health";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { PipelineExplanation } from "../pipeline/PipelineStatus";
import { useChannels, useConnectionTest } from "./queries";

export function ChannelsPage() {
  const channels = useChannels();
  useDocumentTitle("Channels");
  return (
    <div className="page">
      <header className="page-header">
        <h1>Channels</h1>
        <p className="muted small">Refreshes every 5 seconds</p>
      </header>
      <p className="muted small page-intro">
        <strong>Orders ingested</strong> counts every copy of an order read from a channel since ingest started: a new
        order and each later change at the channel count once each, and a failing channel&apos;s last good page is read
        again. So it is higher than the number of orders on the Orders page, which counts each order once.
      </p>
      <PipelineExplanation />
      {channels.isError && !channels.data ? (
        <ErrorState title="Could not load channel states" error={channels.error} onRetry={() => void channels.refetch()} />
      ) : (
        <ul className="channel-grid" aria-busy={channels.isPending}>
          {channels.data
            ? channels.data.map((state) => <ChannelCard key={state.channel} state={state} />)
            : [0, 1, 2].map((index) => (
                <li key={index} className="channel-card">
                  <Skeleton width="short" />
                  <Skeleton width="long" />
                  <Skeleton width="medium" />
                </li>
              ))}
        </ul>
      )}
    </div>
  );
}

function ChannelCard({ state }: { state: ChannelState }) {
  // An error followed by a good poll is history, not an outage: it should not look alarming.
  const { lastErrorAt, lastSuccessAt } = state;
  const recovered = !!lastErrorAt && !!lastSuccessAt && new Date(lastSuccessAt) > new Date(lastErrorAt);
  const failing = isFailing(state);
  const { user } = useSessionState();
  const backfill = backfillLine(state);
  return (
    <li className={`channel-card circuit-card-${state.circuit}`} aria-labelledby={`channel-${state.channel}`}>
      <header className="channel-card-header">
        <h2 id={`channel-${state.channel}`}>{channelName(state.channel)}</h2>
        <CircuitBadge circuit={state.circuit} />
      </header>
      {failing && <p className="outage-line small">{describeOutage(state)}</p>}
      <dl className="detail-list">
        <dt>Connection</dt>
        <dd>{connectionLine(state)}</dd>
        {backfill && (
          <>
            <dt>History import</dt>
            <dd>{backfill}</dd>
          </>
        )}
        <dt>Orders ingested</dt>
        <dd className="strong">{formatCount(state.ordersIngested)}</dd>
        <dt>Last successful poll</dt>
        <dd>
          {state.lastSuccessAt ? (
            <>
              {formatClock(state.lastSuccessAt)} · <TimeAgo iso={state.lastSuccessAt} />
            </>
          ) : (
            <span className="muted">never</span>
          )}
        </dd>
        <dt>Last error</dt>
        <dd>
          {state.lastError ? (
            <>
              {state.lastErrorKind && ERROR_KIND_WORDS[state.lastErrorKind] && (
                <span className={recovered ? "muted block" : "error-text strong block"}>
                  {ERROR_KIND_WORDS[state.lastErrorKind]}
                </span>
              )}
              <span className={recovered ? "muted" : "error-text"}>{state.lastError}</span>
              {state.lastErrorAt && (
                <span className="muted small block">
                  <TimeAgo iso={state.lastErrorAt} />
                  {recovered && " · recovered since"}
                </span>
              )}
            </>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
      </dl>
      {user?.role === "admin" && <ConnectionTest state={state} />}
    </li>
  );
}

function ConnectionTest({ state }: { state: ChannelState }) {
  const test = useConnectionTest();
  const name = channelName(state.channel);
  return (
    <div className="channel-card-actions">
      <button
        type="button"
        className="button button-quiet"
        disabled={test.isPending}
        onClick={() => test.mutate(state.channel)}
      >
        {test.isPending ? "Testing…" : `Test ${name} connection`}
      </button>
      <p className="small" role="status" aria-live="polite">
        {test.isError && <span className="error-text">Could not run the test: {describeError(test.error)}</span>}
        {test.data && (
          <span className={test.data.ok ? "" : "error-text"}>
            {test.data.ok ? "Connected: " : "Failed: "}
            {test.data.detail} ({Math.round(test.data.elapsedMs)} ms)
          </span>
        )}
      </p>
    </div>
  );
}
