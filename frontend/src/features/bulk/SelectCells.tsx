import type { Order } from "../../lib/apiTypes";
import type { Selection } from "./selection";

/** The checkbox leading an order's row: picks it for a bulk move. */
export function SelectCell({ selection, order }: { selection: Selection; order: Order }) {
  return (
    // A click here picks the order; it does not open it as a click elsewhere on the row does.
    <td className="select-cell" onClick={(event) => event.stopPropagation()}>
      <input
        type="checkbox"
        aria-label={`Select order ${order.externalId}`}
        checked={selection.allMatching || selection.selected.has(order.id)}
        onChange={() => selection.toggle(order.id)}
      />
    </td>
  );
}

/** The header's checkbox: picks every order of the page. */
export function SelectAllCell({ selection, ids }: { selection: Selection; ids: string[] }) {
  const all = ids.length > 0 && (selection.allMatching || ids.every((id) => selection.selected.has(id)));
  return (
    <th scope="col" className="select-cell">
      <input
        type="checkbox"
        aria-label="Select every order on this page"
        checked={all}
        onChange={() => selection.setPage(ids, !all)}
      />
    </th>
  );
}
