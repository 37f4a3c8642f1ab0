package rtkfake

import "net/url"

// pageParams reads page_no (1-based; 0 or absent means 1) and per_page
// (absent or 0 means DefaultPerPage), or says what is wrong with them.
func pageParams(q url.Values) (pageNo, perPage int, problem string) {
	perPage, ok := wholeNumber(q.Get("per_page"))
	if !ok {
		return 0, 0, "per_page must be a whole number >= 0"
	}
	if perPage == 0 {
		perPage = DefaultPerPage
	}
	pageNo, ok = wholeNumber(q.Get("page_no"))
	if !ok {
		return 0, 0, "page_no must be a whole number >= 0"
	}
	return max(pageNo, 1), perPage, ""
}

// paging is the "paging" object of the recordings and livestreams lists:
// total_count entries in all, and the 0-based offsets of the first and last
// entry of the page (both the page's start when it is empty).
type paging struct {
	TotalCount  int `json:"total_count"`
	StartOffset int `json:"start_offset"`
	EndOffset   int `json:"end_offset"`
}

// pageOf returns page pageNo (1-based) of items, perPage per page, and its
// paging object. The page is never nil, so that it encodes as [].
func pageOf[T any](items []T, pageNo, perPage int) ([]T, paging) {
	start := (pageNo - 1) * perPage
	if start < 0 || start > len(items) {
		return []T{}, paging{TotalCount: len(items), StartOffset: max(start, 0), EndOffset: max(start, 0)}
	}
	page := items[start:min(start+perPage, len(items))]
	if len(page) == 0 {
		return []T{}, paging{TotalCount: len(items), StartOffset: start, EndOffset: start}
	}
	return page, paging{TotalCount: len(items), StartOffset: start, EndOffset: start + len(page) - 1}
}
