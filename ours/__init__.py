"""What this project adds to the article's three files: each module named for what it adds (README, Project layout)."""
