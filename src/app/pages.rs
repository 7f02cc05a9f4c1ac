//! Pages of a keyed listing (AIP-158): which items a page holds and the key the next page
//! starts after. How a key travels to the caller (an opaque token) is the transport's business.

/// One page asked for: how many items at most, and the key after which it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub size: usize,
    pub after: Option<String>,
}

/// One page of items, and the key of its last item when more items follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(convert).collect(), next_after: self.next_after }
    }
}

/// Takes one page from items already in key order.
pub fn take_page<T>(items: impl Iterator<Item = T>, size: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let mut page: Vec<T> = Vec::with_capacity(size);
    let mut has_more = false;
    for item in items {
        if page.len() == size {
            has_more = true;
            break;
        }
        page.push(item);
    }
    let next_after = if has_more { page.last().map(key) } else { None };
    Page { items: page, next_after }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_names_its_last_key_only_when_more_items_follow() {
        let check = |n_items: u32, size: usize, expected_items: Vec<u32>, expected_next: Option<&str>| {
            let page = take_page(1..=n_items, size, ToString::to_string);
            assert_eq!(page.items, expected_items, "{n_items} items, pages of {size}");
            assert_eq!(page.next_after.as_deref(), expected_next, "{n_items} items, pages of {size}");
        };
        check(3, 3, vec![1, 2, 3], None);
        check(4, 3, vec![1, 2, 3], Some("3"));
        check(0, 3, vec![], None);
        check(2, 5, vec![1, 2], None);
        check(5, 1, vec![1], Some("1"));
    }
}
