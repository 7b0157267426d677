import type { Order, WriteBack } from "../../lib/apiTypes";
import { channelName } from "../../components/ui/Badge";
import { TimeAgo } from "../../components/ui/TimeAgo";
import { humanize } from "../../lib/format";

const PAYMENT_TEXT: Record<NonNullable<Order["paymentMethod"]>, string> = {
  prepaid: "Prepaid",
  cash_on_delivery: "Cash on delivery",
};

/** Where the order goes, how it is paid, who carries it, and whether the channel knows. */
export function FulfilmentSection({ order }: { order: Order }) {
  const address = order.shippingAddress;
  return (
    <section className="detail-section" aria-labelledby="fulfilment-title">
      <h3 id="fulfilment-title">Fulfilment</h3>
      <dl className="detail-list">
        <dt>Ship to</dt>
        <dd>
          {address ? (
            <address className="address">
              {address.name}
              <br />
              {[address.line1, address.line2].filter(Boolean).join(", ")}
              {(address.line1 || address.line2) && <br />}
              {[address.city, address.state, address.postalCode].filter(Boolean).join(", ")} · {address.country}
              {address.phone && (
                <>
                  <br />
                  {address.phone}
                </>
              )}
            </address>
          ) : (
            <span className="muted">not given by the channel</span>
          )}
        </dd>
        <dt>Payment</dt>
        <dd>{order.paymentMethod ? PAYMENT_TEXT[order.paymentMethod] : <span className="muted">unknown</span>}</dd>
        <dt>Shipment</dt>
        <dd data-testid="shipment">
          {order.shipment ? (
            <>
              {order.shipment.carrier} · <span className="mono">{order.shipment.trackingNumber}</span>
            </>
          ) : (
            <span className="muted">not shipped yet</span>
          )}
        </dd>
        {order.writeBack && (
          <>
            <dt>At {channelName(order.channel)}</dt>
            <dd>
              <WriteBackStatus writeBack={order.writeBack} channel={channelName(order.channel)} />
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function WriteBackStatus({ writeBack, channel }: { writeBack: WriteBack; channel: string }) {
  const move = humanize(writeBack.status);
  if (writeBack.state === "acknowledged") {
    return (
      <span className="write-back write-back-acknowledged" data-testid="write-back">
        ✓ {move} acknowledged by {channel}
        {writeBack.answeredAt && (
          <span className="muted small">
            {" "}
            · <TimeAgo iso={writeBack.answeredAt} />
          </span>
        )}
      </span>
    );
  }
  if (writeBack.state === "rejected") {
    return (
      <span className="write-back write-back-rejected" role="alert" data-testid="write-back">
        ✕ {channel} rejected the move to {move}: {writeBack.error ?? "no reason given"}
      </span>
    );
  }
  return (
    <span className="write-back write-back-pending" data-testid="write-back">
      … sending {move} to {channel}
      {writeBack.attempts > 0 && <span className="muted small"> · {writeBack.attempts} attempts</span>}
    </span>
  );
}
