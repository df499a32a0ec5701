"""Pages of a list, counted one way for every paginated list in the app."""

from __future__ import annotations


def pages_of(total: int, page: int, size: int) -> tuple[int, int]:
    """How many pages `total` rows make at `size` a page (at least one, so an empty
    list has a page that says so), and the page asked for brought within them: past
    the end is the last page, below 1 the first."""
    pages = max(1, -(-total // size))
    return pages, min(max(page, 1), pages)
