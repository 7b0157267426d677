import { useLocation, useNavigate, useParams } from "react-router";
import { ChannelTag, StatusBadge } from "../../components/ui/Badge";
import { Drawer } from "../../components/ui/Drawer";
import { ErrorState, Skeleton } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import type { StatusHistoryEntry } from "../../lib/apiTypes";
import { isApiError } from "../../lib/errors";
import { formatAbsolute, formatCount, formatMoney, humanize } from "../../lib/format";
import { useSessionState } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { CustomerOrders } from "./CustomerOrders";
import { FulfilmentSection } from "./FulfilmentSection";
import { NotesSection, TagsSection } from "./NotesAndTags";
import { StatusActions } from "./StatusActions";
import { useUserNames, type NameOf } from "../users/names";
import { useOrder, type OrderWithMoves } from "./queries";

/** The order at /orders/:id, over the table (whose filters stay in the URL). */
export function OrderDrawer() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const order = useOrder(id);
  const close = () => navigate({ pathname: "/orders", search: location.search });
  const title = order.data ? `Order ${order.data.externalId}` : "Order";
  useDocumentTitle(title);

  return (
    <Drawer title={title} onClose={close}>
      {order.data ? (
        <OrderDetail order={order.data} />
      ) : order.isError ? (
        <ErrorState
          title={isApiError(order.error, 404) ? "This order does not exist" : "Could not load this order"}
          error={order.error}
          onRetry={isApiError(order.error, 404) ? undefined : () => void order.refetch()}
        />
      ) : (
        <div className="drawer-body" aria-busy="true">
          <Skeleton width="long" />
          <Skeleton width="medium" />
          <Skeleton width="long" />
        </div>
      )}
    </Drawer>
  );
}

function OrderDetail({ order }: { order: OrderWithMoves }) {
  const { user } = useSessionState();
  const nameOf = useUserNames();
  return (
    <div className="drawer-body">
      <header className="detail-header">
        <p className="eyebrow">
          <ChannelTag channel={order.channel} />
        </p>
        <h2 id="order-title">Order {order.externalId}</h2>
        <p className="detail-meta">
          <StatusBadge status={order.status} /> · placed <TimeAgo iso={order.placedAt} /> · updated{" "}
          <TimeAgo iso={order.updatedAt} />
        </p>
        <p className="muted small">Order Hub id {order.id}</p>
      </header>

      <section className="detail-section" aria-labelledby="items-title">
        <h3 id="items-title">Items</h3>
        <table className="items-table">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col" className="numeric">
                Qty
              </th>
              <th scope="col" className="numeric">
                Price
              </th>
              <th scope="col" className="numeric">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((item, index) => (
              <tr key={`${item.sku}-${index}`}>
                <td>
                  {item.name}
                  <span className="muted small block">{item.sku}</span>
                </td>
                <td className="numeric">{formatCount(item.qty)}</td>
                <td className="numeric">{formatMoney(item.price, order.currency)}</td>
                <td className="numeric">{formatMoney(item.price * item.qty, order.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                Total
              </th>
              <td className="numeric strong">{formatMoney(order.total, order.currency)}</td>
            </tr>
          </tfoot>
        </table>
      </section>

      {user?.role === "admin" && <StatusActions order={order} />}

      <FulfilmentSection order={order} />
      <TagsSection order={order} canEdit={user?.role === "admin"} />
      <NotesSection order={order} canEdit={user?.role === "admin"} />

      <section className="detail-section" aria-labelledby="customer-title">
        <h3 id="customer-title">Customer</h3>
        <dl className="detail-list">
          <dt>Name</dt>
          <dd>{order.customer.name}</dd>
          <dt>Phone</dt>
          <dd>{order.customer.phone}</dd>
          <dt>Email</dt>
          <dd>{order.customer.email ?? <span className="muted">none given</span>}</dd>
        </dl>
      </section>

      <CustomerOrders order={order} />

      <section className="detail-section" aria-labelledby="history-title">
        <h3 id="history-title">Status history</h3>
        <ol className="timeline" aria-label="Status history">
          {order.statusHistory.map((entry, index) => (
            <li key={`${entry.status}-${entry.changedAt}-${index}`} className="timeline-entry">
              <span className={`timeline-dot status-dot-${entry.status.toLowerCase()}`} aria-hidden="true" />
              <div>
                <p className="timeline-title">
                  {humanize(entry.status)}
                  <span className="muted small">
                    {" "}
                    · {changedByText(entry, user?.id, nameOf)}
                  </span>
                </p>
                <p className="muted small">
                  <time dateTime={entry.changedAt}>{formatAbsolute(entry.changedAt)}</time>
                </p>
                {entry.note && <p className="timeline-note">{entry.note}</p>}
              </div>
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

/** Who made a status move, in words: the acting admin's display name (else their email; older
 * entries lack both). */
function changedByText(entry: StatusHistoryEntry, currentUserId: string | undefined, nameOf: NameOf): string {
  if (entry.source !== "admin") return "from the channel";
  if (entry.changedBy && entry.changedBy === currentUserId) return "by you";
  const name = nameOf(entry.changedBy, entry.changedByEmail);
  return name ? `by ${name}` : "by an admin";
}
