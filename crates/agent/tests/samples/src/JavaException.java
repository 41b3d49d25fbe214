package com.example.shop;

import java.util.List;

public class Main {
    static class Conn implements AutoCloseable {
        public void close() throws Exception {
            throw new IllegalStateException("connection already closed");
        }
    }

    static int stock(String sku) {
        try {
            return Integer.parseInt(sku.substring(4));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad sku " + sku, e);
        }
    }

    static void reserve(List<String> skus) throws Exception {
        try (Conn c = new Conn()) {
            for (String s : skus) {
                stock(s);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        try {
            reserve(List.of("SKU-12", "SKU-x1"));
        } catch (IllegalArgumentException e) {
            throw new RuntimeException("order 42 failed", e);
        }
    }
}
