package shop

data class Order(val id: Int, val qty: Int?)

class Inventory {
    fun reserve(o: Order): Int = o.qty!! * 2
}

fun process(orders: List<Order>) {
    val inv = Inventory()
    orders.forEach {
        try {
            inv.reserve(it)
        } catch (e: NullPointerException) {
            throw IllegalStateException("order ${it.id} has no quantity", e)
        }
    }
}

fun main() {
    process(listOf(Order(1, 2), Order(2, null)))
}
