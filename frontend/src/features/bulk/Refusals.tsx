import { Link, useLocation } from "react-router";
import { ChannelTag } from "../../components/ui/Badge";
import type { Channel } from "../../lib/apiTypes";
import { formatCount } from "../../lib/format";
import { csvText, saveCsv } from "./csv";

/** An order a bulk move refused, as an admin knows it, with the server's reason. */
export interface Refusal {
  orderId: string;
  externalId?: string | null;
  channel?: Channel | null;
  customer?: string | null;
  code?: string | null;
  message?: string | null;
}

/** Every refused order: linked to its drawer, with the server's reason, downloadable as CSV. */
export function Refusals({ refusals, name }: { refusals: Refusal[]; name: string }) {
  const location = useLocation();
  if (refusals.length === 0) return null;
  const download = () =>
    saveCsv(
      `${name}-refused.csv`,
      csvText(
        ["order id", "external id", "channel", "customer", "reason"],
        refusals.map((r) => [r.orderId, r.externalId, r.channel, r.customer, r.message ?? r.code]),
      ),
    );
  return (
    <div className="refusals">
      <div className="refusals-head">
        <span className="strong">
          {formatCount(refusals.length)} refused {refusals.length === 1 ? "order" : "orders"}
        </span>
        <button type="button" className="button button-quiet" onClick={download}>
          Download refused as CSV
        </button>
      </div>
      <div className="table-wrap">
        <table className="orders-table refusals-table" aria-label="Refused orders">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Channel</th>
              <th scope="col">Customer</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {refusals.map((refusal) => (
              <tr key={refusal.orderId}>
                <th scope="row">
                  <Link to={{ pathname: `/orders/${refusal.orderId}`, search: location.search }}>
                    {refusal.externalId ?? refusal.orderId}
                  </Link>
                </th>
                <td>{refusal.channel ? <ChannelTag channel={refusal.channel} /> : "—"}</td>
                <td>{refusal.customer ?? "—"}</td>
                <td>{refusal.message || refusal.code || "refused"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
