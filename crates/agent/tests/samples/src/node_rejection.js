async function load() {
  await new Promise((r) => setTimeout(r, 1));
  throw new RangeError("page 0 out of range");
}
load();
