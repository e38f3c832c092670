import { assertEquals } from "../_utils/assert.ts";
import { ExpiringCache } from "../../src/common/mod.ts";

Deno.test("ExpiringCache forgets an entry once its time to live passed", () => {
  let now = 0;
  const cache = new ExpiringCache<string>(10, 100, () => now);
  cache.set("a", "1");
  now = 9;
  assertEquals(cache.get("a"), "1");
  now = 10;
  assertEquals(cache.get("a"), undefined);
  assertEquals(cache.size, 0);
});

Deno.test("ExpiringCache holds at most maxEntries: expired entries go first, then the oldest", () => {
  let now = 0;
  const cache = new ExpiringCache<number>(10, 3, () => now);
  cache.set("old", 0);
  now = 5;
  cache.set("a", 1);
  cache.set("b", 2);
  now = 11; // "old" expired, "a" and "b" did not
  cache.set("c", 3);
  assertEquals([cache.size, cache.get("a"), cache.get("b"), cache.get("c")], [3, 1, 2, 3]);
  cache.set("d", 4); // nothing expired: the oldest ("a") makes room
  assertEquals([cache.size, cache.get("a"), cache.get("d")], [3, undefined, 4]);
  // Setting a key again renews it and moves it last.
  cache.set("b", 5);
  cache.set("e", 6);
  assertEquals([cache.get("c"), cache.get("b"), cache.get("e")], [undefined, 5, 6]);
});
