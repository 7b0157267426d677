import { channelName } from "../../components/ui/Badge";
import { ErrorState, Skeleton } from "../../components/ui/States";
import { CHANNELS, ORDER_STATUSES, type Channel, type OrderStats, type OrderStatus } from "../../lib/apiTypes";
import { formatCount, formatMoney, humanize } from "../../lib/format";
import { isFiltered, viewToFilters, type OrderView } from "./orderView";
import { useOrderStats } from "./queries";

interface Drilldown {
  /** Narrows the table to one channel or one status. */
  onShow: (filter: { channels: Channel[] } | { statuses: OrderStatus[] }) => void;
}

/** The counts of the orders in the current view: the same filters as the table. */
export function OrderStatsBar({ view, onShow }: { view: OrderView } & Drilldown) {
  const stats = useOrderStats(viewToFilters(view));
  if (stats.isError) {
    return <ErrorState title="Could not load the order counts" error={stats.error} onRetry={() => void stats.refetch()} />;
  }
  const scope = isFiltered(view) ? "in this view" : "all time";
  return (
    <section className="stats" aria-label="Order counts" aria-busy={stats.isFetching}>
      {stats.data ? <StatsCards stats={stats.data} scope={scope} onShow={onShow} /> : <StatsSkeleton />}
    </section>
  );
}

/** Revenue rows in the one channel order every card uses, then by currency. */
function revenueRows(stats: OrderStats) {
  return [...stats.revenue].sort(
    (a, b) => CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel) || a.currency.localeCompare(b.currency),
  );
}

function StatsCards({ stats, scope, onShow }: { stats: OrderStats; scope: string } & Drilldown) {
  const revenue = revenueRows(stats);
  return (
    <>
      <div className="stat-card">
        <h2 className="stat-title">Orders · {scope}</h2>
        <p className="stat-value">{formatCount(stats.totalOrders)}</p>
        <dl className="stat-list">
          {CHANNELS.map((channel) => (
            <div key={channel}>
              <dt>
                <button
                  type="button"
                  className="stat-link"
                  aria-label={`Show only ${channelName(channel)} orders`}
                  onClick={() => onShow({ channels: [channel] })}
                >
                  {channelName(channel)}
                </button>
              </dt>
              <dd>{formatCount(stats.byChannel[channel] ?? 0)}</dd>
            </div>
          ))}
        </dl>
      </div>
      <div className="stat-card">
        <h2 className="stat-title">By status · {scope}</h2>
        <dl className="stat-list stat-list-status">
          {ORDER_STATUSES.map((status) => (
            <div key={status}>
              <dt>
                <button
                  type="button"
                  className="stat-link"
                  aria-label={`Show only ${humanize(status)} orders`}
                  onClick={() => onShow({ statuses: [status] })}
                >
                  <span className={`dot status-dot-${status.toLowerCase()}`} aria-hidden="true" />
                  {humanize(status)}
                </button>
              </dt>
              <dd>{formatCount(stats.byStatus[status] ?? 0)}</dd>
            </div>
          ))}
        </dl>
      </div>
      <div className="stat-card stat-card-wide">
        <h2 className="stat-title">Revenue · {scope}</h2>
        <p className="muted small">Cancelled orders are left out; each currency is summed on its own.</p>
        {revenue.length === 0 ? (
          <p className="muted">No revenue in these orders.</p>
        ) : (
          <dl className="stat-list">
            {revenue.map(({ channel, currency, amount }) => (
              <div key={`${channel}-${currency}`}>
                <dt>
                  {channelName(channel)} <span className="muted">{currency}</span>
                </dt>
                <dd>{formatMoney(amount, currency)}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
    </>
  );
}

function StatsSkeleton() {
  return (
    <>
      {[0, 1, 2].map((card) => (
        <div className="stat-card" key={card}>
          <Skeleton width="short" />
          <Skeleton width="long" />
          <Skeleton width="medium" />
        </div>
      ))}
    </>
  );
}
