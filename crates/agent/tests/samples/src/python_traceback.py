import json


def parse(raw):
    return json.loads(raw)["price"] * 2


def main():
    print("pricing", parse('{"price": "12"}' + "x"))


main()
