"""Open comments in Finnish, Swedish and English (docs/text.md)."""
