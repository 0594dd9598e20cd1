"""What a post is: files, front matter, dates, URLs, Markdown in each generator's dialect, text, media."""
