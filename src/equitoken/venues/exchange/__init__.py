"""The order-book exchange: orders, the matching book, and its journal."""
