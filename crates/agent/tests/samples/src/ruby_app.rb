class Cart
  def initialize(items)
    @items = items
  end

  def total
    @items.sum { |i| price(i) }
  end

  def price(item)
    raise ArgumentError, "no price for #{item}" unless item.is_a?(Integer)
    item
  end
end

puts "checking out"
Cart.new([3, "gift"]).total
