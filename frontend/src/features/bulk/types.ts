// Types of the routes for working on many orders, derived from the generated OpenAPI paths.
import type { paths } from "../../api/schema";
import type { OrderListQuery } from "../../lib/apiTypes";
import type { OrderView } from "../orders/orderView";
import { viewToQuery } from "../orders/orderView";

type JsonOf<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
type Ok<Op, Code extends number = 200> = Op extends { responses: { [K in Code]: infer R } } ? JsonOf<R> : never;
type BodyOf<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

export type Job = Ok<paths["/api/jobs/{job_id}"]["get"]>["job"];
export type JobItemPage = Ok<paths["/api/jobs/{job_id}/items"]["get"]>;
export type BulkMoveRequest = BodyOf<paths["/api/bulk-moves"]["post"]>;
export type BulkMoveAnswer = Ok<paths["/api/bulk-moves"]["post"]>;
export type BulkMoveResult = NonNullable<BulkMoveAnswer["result"]>;
export type ApiOrderView = NonNullable<BulkMoveRequest["view"]>;

/** The API's view of the list (filters, search, sort) without its page. */
export function apiView(view: OrderView): ApiOrderView {
  const query: Partial<OrderListQuery> = { ...viewToQuery(view) };
  delete query.page;
  delete query.limit;
  return query as ApiOrderView;
}

export function isFinished(job: Job): boolean {
  return job.state === "succeeded" || job.state === "failed" || job.state === "cancelled";
}
