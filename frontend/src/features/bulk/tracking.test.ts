import { csvText } from "./csv";
import { parseTracking, withoutTracking } from "./tracking";

describe("tracking numbers for a bulk move to Shipped", () => {
  it("reads two columns pasted from a spreadsheet, typed with commas, or a CSV with a header", () => {
    expect(parseTracking("WEB-1\tDL-1\nord_2, DL-2\n\nAMZ-3 DL 3".replace("DL 3", "DL-3")).numbers).toEqual({
      "WEB-1": "DL-1",
      ord_2: "DL-2",
      "AMZ-3": "DL-3",
    });
    expect(parseTracking('order id,tracking number\r\n"WEB-1","DL-1"\r\n').numbers).toEqual({ "WEB-1": "DL-1" });
  });

  it("says which lines it could not read", () => {
    const read = parseTracking("WEB-1\nWEB-2 DL-2 extra\nWEB-3 A\nWEB-3 B");
    expect(read.numbers).toEqual({ "WEB-3": "A" });
    expect(read.problems).toEqual([
      "line 1: give an order (or external) id and one tracking number",
      "line 2: give an order (or external) id and one tracking number",
      "line 4: WEB-3 has two tracking numbers",
    ]);
  });

  it("finds the orders without one, by id or external id", () => {
    const orders = [
      { id: "ord_1", externalId: "WEB-1" },
      { id: "ord_2", externalId: "WEB-2" },
      { id: "ord_3", externalId: "WEB-3" },
    ];
    expect(withoutTracking(orders, { "WEB-1": "x", ord_2: "y" })).toEqual([orders[2]]);
  });

  it("writes refused orders as CSV that no spreadsheet runs as a formula", () => {
    expect(csvText(["a", "b"], [["=1+1", 'say "hi", then'], [null, "+91"]])).toBe(
      "a,b\r\n'=1+1,\"say \"\"hi\"\", then\"\r\n,'+91\r\n",
    );
  });
});
