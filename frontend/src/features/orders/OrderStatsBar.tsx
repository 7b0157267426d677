import { channelName } from "../../components/ui/Badge";
import { ErrorState, Skeleton } from "../../components/ui/States";
import { CHANNELS, ORDER_STATUSES, type Channel, type OrderStats, type OrderStatus } from "../../lib/apiTypes";
import { formatCount, formatMoney, humanize } from "../../lib/format";
import { useOrderStats } from "./queries";

interface Drilldown {
  /** Narrows the table to one channel or one status. */
  onShow: (filter: { channels: Channel[] } | { statuses: OrderStatus[] }) => void;
}

export function OrderStatsBar({ onShow }: Drilldown) {
  const stats = useOrderStats();
  if (stats.isError) {
    return <ErrorState title="Could not load the order counts" error={stats.error} onRetry={() => void stats.refetch()} />;
  }
  return (
    <section className="stats" aria-label="Order counts" aria-busy={stats.isPending}>
      {stats.data ? <StatsCards stats={stats.data} onShow={onShow} /> : <StatsSkeleton />}
    </section>
  );
}

function StatsCards({ stats, onShow }: { stats: OrderStats } & Drilldown) {
  return (
    <>
      <div className="stat-card">
        <h2 className="stat-title">Orders</h2>
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
        <h2 className="stat-title">By status</h2>
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
        <h2 className="stat-title">Revenue</h2>
        {stats.revenue.length === 0 ? (
          <p className="muted">No revenue yet.</p>
        ) : (
          <dl className="stat-list">
            {stats.revenue.map(({ channel, currency, amount }) => (
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
