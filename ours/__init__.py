"""What the project adds to the article's files, a module per topic (docs/layout.md)."""
