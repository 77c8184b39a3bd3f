"""The `page` query parameter: what is a page number and what is refused."""

from __future__ import annotations

import pytest

from fedsocial.paging import MAX_PAGE, PageRequest, parse_page


@pytest.mark.parametrize(
    ("value", "page"), [(None, None), ("true", 1), ("1", 1), ("007", 7), ("1000000", MAX_PAGE)]
)
def test_page_numbers_are_read(value: str | None, page: int | None) -> None:
    # Given a page parameter (absent, 'true' or ASCII digits) Then it names that page
    assert parse_page(value) == PageRequest(page)


@pytest.mark.parametrize(
    "value", ["0", "-1", "1000001", "9" * 5000, "²", "١٢", "１", " 1", "1.0", "", "false"]
)
def test_anything_else_is_refused_with_our_message(value: str) -> None:
    # Given a page parameter that is not an ASCII page number in range (superscripts and other
    # scripts' digits pass str.isdigit; 5,000 digits make int() raise its own error)
    # Then it is refused with one clear message
    with pytest.raises(ValueError, match="page must be an integer from 1 to 1000000"):
        parse_page(value)
