"""The sync engine: scan → plan → execute → report. No terminal or Textual code here."""
