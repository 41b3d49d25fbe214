class PaymentError(Exception):
    pass


def charge(cart):
    try:
        return cart["total"] / cart["items"]
    except ZeroDivisionError:
        raise KeyError("items")


def checkout(cart):
    try:
        charge(cart)
    except KeyError as e:
        raise PaymentError(f"cannot charge cart {cart['id']}") from e


checkout({"id": 7, "total": 10, "items": 0})
