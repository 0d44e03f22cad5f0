"""What the app knows, as plain data: each actor's state (its last audit and plan, marks,
choices and options) and the discrepancy tree built from a plan. No widget, no Textual:
the screens read and change these, the widgets show them."""
