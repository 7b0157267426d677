import { Link, useLocation } from "react-router";
import { ChannelTag, StatusBadge } from "../../components/ui/Badge";
import { TimeAgo } from "../../components/ui/TimeAgo";
import type { Order } from "../../lib/apiTypes";
import { formatMoney } from "../../lib/format";
import { useCustomerOrders } from "./queries";

/** The customer's other orders, by the same phone number or email, at any channel. */
export function CustomerOrders({ order }: { order: Order }) {
  const others = useCustomerOrders(order.id);
  const location = useLocation();
  return (
    <section className="detail-section" aria-labelledby="customer-orders-title">
      <h3 id="customer-orders-title">
        Other orders by this customer
        {others.data && <span className="muted small"> · {others.data.total}</span>}
      </h3>
      {others.isError && <p className="muted">Could not load them.</p>}
      {others.data && others.data.orders.length === 0 && <p className="muted">None.</p>}
      {others.data && others.data.orders.length > 0 && (
        <ul className="customer-orders" aria-label="Other orders by this customer">
          {others.data.orders.map((other) => (
            <li key={other.id}>
              <Link to={{ pathname: `/orders/${other.id}`, search: location.search }}>
                <ChannelTag channel={other.channel} /> {other.externalId}
              </Link>{" "}
              <StatusBadge status={other.status} /> {formatMoney(other.total, other.currency)} ·{" "}
              <TimeAgo iso={other.placedAt} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
