/** Keyboard moves over the orders list (table rows or cards), shared by the page and the layout. */

const ORDER_LINKS = "#orders-list a.order-link";

function orderLinks(): HTMLAnchorElement[] {
  return Array.from(document.querySelectorAll<HTMLAnchorElement>(ORDER_LINKS));
}

/** Focuses the first order of the list; false when there is none on screen. */
export function focusFirstOrder(): boolean {
  const first = orderLinks()[0];
  first?.focus();
  return !!first;
}

/** Moves focus to the next (1) or previous (-1) order, or to the first when none has focus. */
export function moveOrderFocus(step: 1 | -1): boolean {
  const links = orderLinks();
  const index = links.indexOf(document.activeElement as HTMLAnchorElement);
  const next = index === -1 ? links[0] : links[index + step];
  if (!next) return false;
  next.focus();
  next.scrollIntoView?.({ block: "nearest" });
  return true;
}

/** True when a key press belongs to what the user is typing in, not to a page shortcut. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (event.ctrlKey || event.metaKey || event.altKey) return true;
  if (!target) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}
