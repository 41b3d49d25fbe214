const net = require("net");
function validate(order) {
  if (!order.email) throw new Error("order " + order.id + " has no email");
}
try {
  validate({ id: 9 });
} catch (e) {
  console.error(e);
}
const s = net.connect(1, "127.0.0.1");
s.on("error", (e) => console.error(e));
