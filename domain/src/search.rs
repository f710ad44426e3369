//! What a search of the listings means, whatever database answers it: the words a query holds
//! (folded like the stored text, see [`crate::text::fold`]), which listings it matches, how they
//! rank, how one typo is forgiven, and the orders a page may come in.
//!
//! Matching is defined on the folded, space-padded text of a listing (`" cong nghe sinh hoc "`):
//! every term of the query must appear in it as whole words, the last word of an unquoted query
//! as the start of a word (type-ahead). Each backend uses its full-text index to narrow the rows
//! and then checks exactly these patterns, so both answer the same hits.
//!
//! The relevance score depends only on the listing and the query, never on the rest of the
//! collection, so a page cursor that carries it stays valid while listings come and go:
//!
//! | points | when |
//! |---|---|
//! | 2 per term | the term is in the title (vi or en) |
//! | 3 | a query of two words or more appears in the title as written, words in order |
//! | 1 | a query of two words or more appears as written anywhere (title, summary, description, keywords, owner) |
//!
//! So a listing with all the words in its title ranks above one with some of them there, and that
//! above one with them in its description only; equal scores come newest first.

use crate::text::fold;

/// The most characters of a query (`q`).
pub const Q_MAX_CHARS: usize = 200;
/// The most words of a query, phrases included.
pub const Q_MAX_WORDS: usize = 8;
/// Words at least this long may be corrected for one typo when the query finds nothing.
pub const TYPO_MIN_CHARS: usize = 5;

/// A term of a query: one word, or a phrase of words that must follow each other. `prefix`: the
/// last word may be the start of a longer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub words: Vec<String>,
    pub prefix: bool,
}

impl Term {
    /// The `LIKE` pattern of this term on the padded text: `% word %`, `% two words %`, or
    /// `% wor%` for a prefix. Folded words hold letters and digits only, so nothing in them is a
    /// wildcard.
    pub fn pattern(&self) -> String {
        let end = if self.prefix { "%" } else { " %" };
        format!("% {}{end}", self.words.join(" "))
    }

    /// Whether the padded folded text holds this term (what [`Term::pattern`] means).
    pub fn is_in(&self, padded: &str) -> bool {
        let needle = format!(" {}{}", self.words.join(" "), if self.prefix { "" } else { " " });
        padded.contains(&needle)
    }
}

/// Why a query cannot be searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryProblem {
    TooLong { length: usize },
    TooManyWords { words: usize },
}

/// A parsed search query: terms made of folded words only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
}

impl SearchQuery {
    /// Reads what a person typed: text in double quotes is a phrase, other words stand alone,
    /// and the last word, unless quoted or followed by a space, is a prefix. Returns `None` when
    /// nothing searchable is left (only punctuation or spaces).
    pub fn parse(raw: &str) -> Result<Option<SearchQuery>, QueryProblem> {
        let length = raw.chars().count();
        if length > Q_MAX_CHARS {
            return Err(QueryProblem::TooLong { length });
        }
        let mut terms: Vec<Term> = Vec::new();
        let mut last_is_open_word = false;
        for (n, part) in raw.split('"').enumerate() {
            let words: Vec<String> = fold(part).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
            if words.is_empty() {
                continue;
            }
            if n % 2 == 1 {
                terms.push(Term { words, prefix: false });
                last_is_open_word = false;
            } else {
                terms.extend(words.into_iter().map(|w| Term { words: vec![w], prefix: false }));
                last_is_open_word = true;
            }
        }
        let open_end = !raw.ends_with(|c: char| c.is_whitespace() || c == '"');
        if let Some(last) = terms.last_mut().filter(|_| last_is_open_word && open_end) {
            last.prefix = true;
        }
        let mut unique: Vec<Term> = Vec::new();
        for term in terms {
            if !unique.contains(&term) {
                unique.push(term);
            }
        }
        let words = unique.iter().map(|t| t.words.len()).sum::<usize>();
        if words > Q_MAX_WORDS {
            return Err(QueryProblem::TooManyWords { words });
        }
        Ok((!unique.is_empty()).then_some(SearchQuery { terms: unique }))
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The whole query as one phrase (its last word a prefix if the query's is), which scores
    /// when it appears as written; `None` for a query of one word.
    pub fn as_phrase(&self) -> Option<Term> {
        let words: Vec<String> = self.terms.iter().flat_map(|t| t.words.iter().cloned()).collect();
        (words.len() > 1).then(|| Term { words, prefix: self.terms.last().is_some_and(|t| t.prefix) })
    }

    /// The patterns the padded text must all match.
    pub fn conditions(&self) -> Vec<String> {
        self.terms.iter().map(Term::pattern).collect()
    }

    /// The score as weighted patterns: `(in title?, pattern, points)`, to be summed over the
    /// patterns the listing's padded title (or whole text) matches.
    pub fn score_parts(&self) -> Vec<(ScoreTarget, String, i64)> {
        let mut parts: Vec<(ScoreTarget, String, i64)> =
            self.terms.iter().map(|t| (ScoreTarget::Title, t.pattern(), 2)).collect();
        if let Some(phrase) = self.as_phrase() {
            parts.push((ScoreTarget::Title, phrase.pattern(), 3));
            parts.push((ScoreTarget::Text, phrase.pattern(), 1));
        }
        parts
    }

    /// Whether a listing with this folded title and folded text matches (the reference the SQL
    /// of both backends follows).
    pub fn matches(&self, text: &str) -> bool {
        let padded = pad(text);
        self.terms.iter().all(|t| t.is_in(&padded))
    }

    /// The relevance of a listing with this folded title and text (see the module's table).
    pub fn score(&self, title: &str, text: &str) -> i64 {
        let (title, text) = (pad(title), pad(text));
        let mut score = self.terms.iter().filter(|t| t.is_in(&title)).count() as i64 * 2;
        if let Some(phrase) = self.as_phrase() {
            score += if phrase.is_in(&title) { 3 } else { 0 } + if phrase.is_in(&text) { 1 } else { 0 };
        }
        score
    }

    /// Every distinct word of the query that may hold a typo (at least [`TYPO_MIN_CHARS`] long).
    pub fn correctable_words(&self) -> Vec<(String, bool)> {
        let mut words: Vec<(String, bool)> = Vec::new();
        let last = self.terms.len().saturating_sub(1);
        for (n, term) in self.terms.iter().enumerate() {
            for (k, word) in term.words.iter().enumerate() {
                let prefix = n == last && term.prefix && k + 1 == term.words.len();
                if word.chars().count() >= TYPO_MIN_CHARS && !words.iter().any(|(w, _)| w == word) {
                    words.push((word.clone(), prefix));
                }
            }
        }
        words
    }

    /// The query with `word` replaced by `by` wherever it appears.
    pub fn replacing(&self, word: &str, by: &str) -> SearchQuery {
        let terms = self
            .terms
            .iter()
            .map(|t| Term {
                words: t.words.iter().map(|w| if w == word { by.to_owned() } else { w.clone() }).collect(),
                prefix: t.prefix,
            })
            .collect();
        SearchQuery { terms }
    }

    /// The query as text, folded, phrases in quotes: what a response shows as the query it
    /// searched after a correction, and what a relevance cursor is bound to.
    pub fn text(&self) -> String {
        self.terms
            .iter()
            .map(|t| if t.words.len() > 1 { format!("\"{}\"", t.words.join(" ")) } else { t.words[0].clone() })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The SQLite FTS5 query narrowing the rows: each term quoted (a phrase as one string), the
    /// prefix marked with `*`. Built from folded words only, never from the user's text.
    pub fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("\"{}\"{}", t.words.join(" "), if t.prefix { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The last word when it is matched as the start of a word (type-ahead), if the query has one.
    pub fn prefix_word(&self) -> Option<&str> {
        self.terms.last().filter(|t| t.prefix).and_then(|t| t.words.last()).map(String::as_str)
    }

    /// The PostgreSQL `to_tsquery('simple', ...)` narrowing the rows: terms joined by `&`,
    /// phrases by `<->`, the prefix marked `:*`; words quoted as lexemes. With `prefix_words`,
    /// every indexed word that starts with the prefix word, the prefix is spelled out as those
    /// words (`('nuoc' | 'nuocmam')`), which the index finds by skipping through their posting
    /// lists instead of collecting every row of the prefix; none: no row can match, as with the
    /// word itself.
    ///
    /// With `provinces` (see [`SearchQuery::scope`]), each word standing alone and plain is looked
    /// up as the word within those provinces (`'/79/nuoc'`, see [`scoped_token`]): its posting
    /// list holds that province's listings only, a thirtieth of the word's, so the index
    /// intersects short lists instead of skipping through the word's and the province's.
    pub fn tsquery(&self, prefix_words: Option<&[String]>, provinces: &[String]) -> String {
        self.terms
            .iter()
            .map(|t| {
                let last = t.words.len() - 1;
                let scope = term_scope(t, provinces);
                let words: Vec<String> = t
                    .words
                    .iter()
                    .enumerate()
                    .map(|(k, w)| match prefix_words.filter(|_| t.prefix && k == last) {
                        None if t.prefix && k == last => forms(w, scope, ":*"),
                        Some(spelled) if spells_out(spelled, scope) => {
                            let all: Vec<String> = spelled.iter().map(|s| forms(s, scope, "")).collect();
                            format!("({})", all.join(" | "))
                        }
                        // Too many words within the provinces, or one the parser would split:
                        // the prefix within them.
                        Some(spelled) if !spelled.is_empty() => forms(w, scope, ":*"),
                        _ => forms(w, scope, ""),
                    })
                    .collect();
                format!("({})", words.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The patterns of [`SearchQuery::conditions`] left to decide beside [`SearchQuery::tsquery`]
    /// with the same arguments: all but a prefix word's spelled out within provinces. That index
    /// query is exact: a listing holds `/79/nuocmam` only if it is in province 79 and a word of
    /// its text starts with `nuocmam` (the parser may cut a word at a letter outside ASCII,
    /// never lengthen it), and every word starting with the prefix is spelled out, or one the
    /// parser would cut keeps the prefix form and its pattern. A whole word keeps its pattern:
    /// `/79/nuoc` cut from `nuocø` is no `nuoc`.
    pub fn conditions_beside_index(&self, prefix_words: Option<&[String]>, provinces: &[String]) -> Vec<String> {
        let decided = |t: &Term| {
            let scope = term_scope(t, provinces);
            t.prefix && !scope.is_empty() && prefix_words.is_some_and(|spelled| spells_out(spelled, scope))
        };
        self.terms.iter().filter(|t| !decided(t)).map(Term::pattern).collect()
    }

    /// The provinces of a filter to look this query's words up within (see
    /// [`SearchQuery::tsquery`]), or none: at most [`SCOPED_PROVINCES_MAX`], and only if some
    /// term is one word of ASCII letters and digits (what PostgreSQL's parser keeps whole behind
    /// `/79/`; a phrase keeps its plain words, whose positions it needs). When some are
    /// returned, the query's words alone say the province.
    pub fn scope<'a>(&self, provinces: &'a [String]) -> &'a [String] {
        let scoped = self.terms.iter().any(|t| t.words.len() == 1 && is_plain_word(&t.words[0]));
        if scoped && provinces.len() <= SCOPED_PROVINCES_MAX { provinces } else { &[] }
    }
}

/// The most provinces a search looks its words up within; more, and the words' own posting
/// lists are as short as the provinces' forms of them summed.
pub const SCOPED_PROVINCES_MAX: usize = 3;

/// The most lexemes a prefix word is spelled out as within provinces (words × provinces).
const SCOPED_FORMS_MAX: usize = 64;

/// The provinces a term's words are looked up within: a term of one plain word only.
fn term_scope<'a>(term: &Term, provinces: &'a [String]) -> &'a [String] {
    if term.words.len() == 1 && is_plain_word(&term.words[0]) { provinces } else { &[] }
}

/// Whether a prefix is spelled out as `spelled` (some words), within `provinces` if any: there,
/// only as many lexemes as [`SCOPED_FORMS_MAX`], and only words the parser keeps whole.
fn spells_out(spelled: &[String], provinces: &[String]) -> bool {
    !spelled.is_empty()
        && (provinces.is_empty()
            || spelled.len() * provinces.len() <= SCOPED_FORMS_MAX && spelled.iter().all(|s| is_plain_word(s)))
}

/// A folded word PostgreSQL's parser reads as one token, and keeps whole behind `/79/`.
fn is_plain_word(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `word` as a tsquery operand: alone, or within each of `provinces` (`('/79/w' | '/92/w')`);
/// `mark` is `:*` for a prefix.
fn forms(word: &str, provinces: &[String], mark: &str) -> String {
    if provinces.is_empty() {
        return format!("{}{mark}", lexeme(word));
    }
    let all: Vec<String> = provinces.iter().map(|p| format!("{}{mark}", lexeme(&scoped_token(p, word)))).collect();
    if all.len() == 1 { all.join("") } else { format!("({})", all.join(" | ")) }
}

/// A word or a filter token within a province: `/79/nuoc`, `/79/field/20`. PostgreSQL's
/// full-text index of the whole text holds one for each word and filter token of a listing,
/// within the listing's current province (migration 000026 makes them from the row), so a search
/// with a province intersects posting lists of that province's listings only. No folded word
/// and no filter token starts with `/` and a province code (see [`IndexFilter::token`]).
pub fn scoped_token(province: &str, token: &str) -> String {
    match token.strip_prefix('/') {
        Some(filter) => format!("/{province}/{filter}"),
        None => format!("/{province}/{token}"),
    }
}

/// `text` as one quoted lexeme of a tsquery, whatever it holds.
pub fn lexeme(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// A filter a search may carry into the PostgreSQL full-text index beside its words, so the
/// index intersects the words and the filters itself instead of the database combining large
/// row sets (a common word and a province each match tens of thousands of listings at 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFilter {
    Kind,
    /// A current province code.
    Province,
    /// The start (one to three digits) of a level-2 field code.
    Field,
}

impl IndexFilter {
    /// The token of a filter value: `/kind/offer`, `/province/79`, `/field/20`. A folded word
    /// holds letters and digits only, so no word is a token nor the start of one (a prefix query
    /// never reaches them); PostgreSQL's parser keeps such a path as one token (`file`).
    pub fn token(self, value: &str) -> String {
        let name = match self {
            IndexFilter::Kind => "kind",
            IndexFilter::Province => "province",
            IndexFilter::Field => "field",
        };
        format!("/{name}/{value}")
    }
}

/// The filter tokens of a listing (see [`IndexFilter`]): its kind, its current province, and
/// every start of each of its field codes (`206` gives `2`, `20`, `206`), so a field filter of
/// any length is one token. Starts in text order, each once, as migration 000020 writes them.
pub fn filter_tokens(kind: &str, province: &str, field_codes: &[String]) -> String {
    let starts: std::collections::BTreeSet<&str> = field_codes
        .iter()
        .flat_map(|code| (1..=code.len()).filter(|&n| code.is_char_boundary(n)).map(move |n| &code[..n]))
        .collect();
    let mut tokens = vec![IndexFilter::Kind.token(kind), IndexFilter::Province.token(province)];
    tokens.extend(starts.into_iter().map(|start| IndexFilter::Field.token(start)));
    tokens.join(" ")
}

/// Which folded text a score pattern looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreTarget {
    Title,
    Text,
}

/// `text` between spaces, as the patterns expect it.
pub fn pad(text: &str) -> String {
    format!(" {text} ")
}

/// `LIKE` patterns (on padded text) of every word one typo away from `word`: a letter changed,
/// missing, added or two neighbours swapped (`_` standing for any one letter). They find
/// candidates; [`one_edit_apart`] confirms them.
pub fn typo_patterns(word: &str, prefix: bool) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let end = if prefix { "%" } else { " %" };
    let mut patterns: Vec<String> = Vec::new();
    let mut push = |w: String| {
        let pattern = format!("% {w}{end}");
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    };
    let text = |cs: &[char]| cs.iter().collect::<String>();
    for i in 0..chars.len() {
        push(format!("{}_{}", text(&chars[..i]), text(&chars[i + 1..])));
        push(format!("{}{}", text(&chars[..i]), text(&chars[i + 1..])));
        if i + 1 < chars.len() {
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            push(text(&swapped));
        }
    }
    for i in 0..=chars.len() {
        push(format!("{}_{}", text(&chars[..i]), text(&chars[i..])));
    }
    patterns
}

/// Whether `a` and `b` differ by exactly one typo: one letter changed, added or removed, or two
/// neighbouring letters swapped.
pub fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    let start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[start..], &b[start..]);
    match (ra.len(), rb.len()) {
        (x, y) if x == y => ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]),
        (x, y) if x == y + 1 => ra[1..] == *rb,
        (x, y) if x + 1 == y => *ra == rb[1..],
        _ => false,
    }
}

/// The best correction of `word` among words of `texts` (folded listing texts): the word one typo
/// away found in the most texts (for a prefix, the start of a word), ties to the alphabetically
/// first, so both backends choose alike.
pub fn best_correction<'a>(word: &str, prefix: bool, texts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let length = word.chars().count();
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for text in texts {
        let mut seen: Vec<String> = Vec::new();
        for text_word in text.split(' ') {
            let options: Vec<String> = if prefix {
                // A prefix is compared with the starts of words of about its length.
                [length - 1, length, length + 1]
                    .into_iter()
                    .filter(|&n| n > 0 && text_word.chars().count() >= n)
                    .map(|n| text_word.chars().take(n).collect())
                    .collect()
            } else {
                vec![text_word.to_owned()]
            };
            if let Some(fit) = options.into_iter().find(|o| one_edit_apart(word, o))
                && !seen.contains(&fit)
            {
                seen.push(fit);
            }
        }
        for candidate in seen {
            *counts.entry(candidate).or_default() += 1;
        }
    }
    let best = counts.iter().max_by(|(wa, ca), (wb, cb)| ca.cmp(cb).then(wb.cmp(wa)))?;
    Some(best.0.clone())
}

/// The orders a page of listings may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Highest score first (see the module), then newest; only with a query.
    Relevance,
    /// Newest first (by id, which is time-ordered).
    #[default]
    Newest,
    /// Most recently changed first.
    Updated,
    /// Cheapest first; listings without an amount last.
    PriceAscending,
    /// Dearest first; listings without an amount last.
    PriceDescending,
    /// Least mature first (TRL 1 to 9); listings without a TRL last.
    TrlAscending,
    /// Most mature first; listings without a TRL last.
    TrlDescending,
}

impl Sort {
    pub const WORDS: &'static [&'static str] = &["relevance", "newest", "updated", "price", "-price", "trl", "-trl"];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Updated => "updated",
            Sort::PriceAscending => "price",
            Sort::PriceDescending => "-price",
            Sort::TrlAscending => "trl",
            Sort::TrlDescending => "-trl",
        }
    }

    pub fn parse(word: &str) -> Option<Sort> {
        [
            Sort::Relevance,
            Sort::Newest,
            Sort::Updated,
            Sort::PriceAscending,
            Sort::PriceDescending,
            Sort::TrlAscending,
            Sort::TrlDescending,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// Whether larger keys (and ids) come first.
    pub fn descending(self) -> bool {
        !matches!(self, Sort::PriceAscending | Sort::TrlAscending)
    }

    /// The key that stands for "no value" (no amount, no TRL), chosen so those listings come
    /// last in either direction.
    pub fn missing_key(self) -> i64 {
        match self {
            Sort::PriceAscending | Sort::TrlAscending => i64::MAX,
            _ => -1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).unwrap().unwrap()
    }

    #[test]
    fn queries_fold_like_the_stored_text() {
        for raw in ["Công nghệ sinh học ", "cong nghe sinh hoc ", "CÔNG NGHỆ SINH HỌC "] {
            assert_eq!(q(raw).text(), "cong nghe sinh hoc", "{raw}");
        }
        assert_eq!(q("Đà Nẵng ").text(), "da nang");
        assert!(q("phân bón").matches("san xuat phan bon huu co"));
        assert!(q("phan bon").matches("san xuat phan bon huu co"));
    }

    #[test]
    fn quotes_make_phrases_and_the_last_open_word_is_a_prefix() {
        let query = q("\"sinh học\" công ngh");
        assert_eq!(
            query.terms(),
            [
                Term { words: vec!["sinh".into(), "hoc".into()], prefix: false },
                Term { words: vec!["cong".into()], prefix: false },
                Term { words: vec!["ngh".into()], prefix: true },
            ]
        );
        assert!(query.matches("cong nghe sinh hoc"));
        assert!(!query.matches("hoc sinh cong nghe"), "the phrase's words must follow each other");
        assert!(!q("nghe ").terms()[0].prefix, "a trailing space ends the word");
        assert!(!q("\"nghe\"").terms()[0].prefix);
        assert!(!q("nghe ").matches("nghien cuu"));
        assert!(q("nghi").matches("nghien cuu"));
    }

    #[test]
    fn punctuation_and_query_syntax_are_only_spaces() {
        let query = q("hoa' OR 1=1 -- NEAR(x) *:");
        assert_eq!(query.text(), "hoa or 1 near x", "a repeated word counts once");
        assert_eq!(query.fts5(), "\"hoa\" AND \"or\" AND \"1\" AND \"near\" AND \"x\"*");
        assert!(query.tsquery(None, &[]).chars().all(|c| c.is_ascii_alphanumeric() || " '():*&<->".contains(c)));
        assert_eq!(SearchQuery::parse(" ,;\"\" ").unwrap(), None);
    }

    #[test]
    fn the_prefix_word_may_be_spelled_out_as_the_words_it_starts() {
        let query = q("\"phan bon\" nuoc");
        assert_eq!(query.prefix_word(), Some("nuoc"));
        assert_eq!(query.tsquery(None, &[]), "('phan' <-> 'bon') & ('nuoc':*)");
        let words = ["nuoc".to_owned(), "nuocmam".to_owned()];
        assert_eq!(query.tsquery(Some(&words), &[]), "('phan' <-> 'bon') & (('nuoc' | 'nuocmam'))");
        assert_eq!(query.tsquery(Some(&[]), &[]), "('phan' <-> 'bon') & ('nuoc')", "no word starts with it");
        assert_eq!(q("nuoc ").prefix_word(), None);
        assert_eq!(q("nuoc ").tsquery(Some(&words), &[]), "('nuoc')", "only a prefix is spelled out");
        assert_eq!(lexeme("it's \\"), "'it''s \\\\'");
    }

    #[test]
    fn words_standing_alone_are_looked_up_within_the_provinces_and_phrases_as_they_are() {
        let query = q("\"phan bon\" vi nuoc");
        let one = ["79".to_owned()];
        let two = ["79".to_owned(), "92".to_owned()];
        assert_eq!(query.scope(&two), &two[..]);
        assert_eq!(
            query.tsquery(None, &one),
            "('phan' <-> 'bon') & ('/79/vi') & ('/79/nuoc':*)",
            "the phrase needs the positions of its plain words"
        );
        assert_eq!(
            query.tsquery(Some(&["nuoc".to_owned(), "nuocmam".to_owned()]), &two),
            "('phan' <-> 'bon') & (('/79/vi' | '/92/vi')) & ((('/79/nuoc' | '/92/nuoc') | ('/79/nuocmam' | '/92/nuocmam')))"
        );
        assert_eq!(
            query.tsquery(Some(&[]), &one),
            "('phan' <-> 'bon') & ('/79/vi') & ('/79/nuoc')",
            "no word starts with it"
        );
        let many: Vec<String> = (0..33).map(|n| format!("nuoc{n}")).collect();
        assert_eq!(
            q("nuoc").tsquery(Some(&many), &two),
            "(('/79/nuoc':* | '/92/nuoc':*))",
            "66 words within two provinces: the prefix within each"
        );
        assert_eq!(q("nuoc").tsquery(Some(&["nuoc".to_owned(), "nuocñ".to_owned()]), &one), "('/79/nuoc':*)");
        let spelled = ["nuoc".to_owned(), "nuocmam".to_owned()];
        assert_eq!(query.conditions().len(), 3);
        assert_eq!(
            query.conditions_beside_index(Some(&spelled), &one),
            ["% phan bon %", "% vi %"],
            "the prefix spelled out within the province is decided by the index"
        );
        for (words, provinces) in [
            (None, &one[..]),
            (Some(&spelled[..]), &[][..]),
            (Some(&["nuoc".to_owned(), "nuocñ".to_owned()][..]), &one[..]),
            (Some(&many[..]), &two[..]),
            (Some(&[][..]), &one[..]),
        ] {
            assert_eq!(query.conditions_beside_index(words, provinces), query.conditions(), "{words:?} {provinces:?}");
        }
        assert_eq!(q("phở").tsquery(None, &one), "('/79/pho':*)", "folded to ASCII");
        assert_eq!(q("日本 ").scope(&one), &[] as &[String], "a word the parser splits keeps the province token");
        assert_eq!(q("\"phan bon\"").scope(&one), &[] as &[String]);
        let four: Vec<String> = ["01", "79", "92", "96"].map(String::from).to_vec();
        assert_eq!(q("nuoc").scope(&four), &[] as &[String], "more provinces than SCOPED_PROVINCES_MAX");
        for token in filter_tokens("offer", "79", &["206".to_owned()]).split(' ') {
            assert!(!token.starts_with("/79/"), "a filter token is no word within a province: {token}");
        }
        assert_eq!(scoped_token("79", "nuoc"), "/79/nuoc");
        assert_eq!(scoped_token("79", &IndexFilter::Field.token("20")), "/79/field/20");
    }

    #[test]
    fn queries_are_bounded() {
        assert_eq!(SearchQuery::parse(&"a".repeat(201)), Err(QueryProblem::TooLong { length: 201 }));
        assert!(SearchQuery::parse(&"a".repeat(200)).is_ok());
        assert_eq!(SearchQuery::parse("a b c d e f g h i"), Err(QueryProblem::TooManyWords { words: 9 }));
        assert_eq!(q("a b c d e f g h").terms().len(), 8);
    }

    #[test]
    fn title_words_outrank_description_words_and_all_words_outrank_some() {
        let query = q("may say ");
        let all_in_title = query.score("may say nong san", "may say nong san");
        let some_in_title = query.score("may cat co", "may cat co dung de say");
        let in_text_only = query.score("thiet bi", "thiet bi may say");
        assert!(
            all_in_title > some_in_title && some_in_title > in_text_only,
            "{all_in_title} {some_in_title} {in_text_only}"
        );
        assert_eq!(all_in_title, 2 * 2 + 3 + 1);
        assert_eq!(in_text_only, 1);
    }

    #[test]
    fn the_score_patterns_say_what_the_score_computes() {
        let query = q("\"nang luong\" may sa");
        let (title, text) = ("may say nang luong mat troi", "may say nang luong mat troi vien co dien");
        let like = |pattern: &str, padded: &str| {
            let inner = pattern.trim_start_matches('%').trim_end_matches('%');
            padded.contains(inner)
        };
        let summed: i64 = query
            .score_parts()
            .iter()
            .filter(|(target, pattern, _)| {
                like(pattern, &pad(if *target == ScoreTarget::Title { title } else { text }))
            })
            .map(|(_, _, points)| points)
            .sum();
        assert_eq!(summed, query.score(title, text));
        assert!(query.conditions().iter().all(|c| like(c, &pad(text))));
    }

    #[test]
    fn one_typo_is_one_letter_changed_missing_added_or_swapped() {
        for (a, b) in [("phan bon", "phan bob"), ("nghien", "ngien"), ("nghien", "nghiien"), ("nghien", "nghein")] {
            assert!(one_edit_apart(a, b), "{a} {b}");
            assert!(one_edit_apart(b, a), "{b} {a}");
        }
        for (a, b) in [("nghien", "nghien"), ("nghien", "ngheni"), ("nghien", "nhgein"), ("abc", "abcde")] {
            assert!(!one_edit_apart(a, b), "{a} {b}");
        }
    }

    #[test]
    fn typo_patterns_find_every_word_one_typo_away() {
        let patterns = typo_patterns("nghien", false);
        for typo in ["ngien", "nghiien", "nghein", "nghuen"] {
            let found = typo_patterns(typo, false);
            assert!(!found.is_empty());
            let padded = pad("nghien cuu");
            assert!(
                found.iter().any(|p| {
                    let inner = &p[1..p.len() - 1];
                    let re: Vec<char> = inner.chars().collect();
                    padded
                        .as_bytes()
                        .windows(re.len())
                        .any(|w| w.iter().zip(&re).all(|(c, r)| *r == '_' || *c as char == *r))
                }),
                "{typo}"
            );
        }
        assert!(patterns.iter().all(|p| p.starts_with("% ") && p.ends_with(" %")));
    }

    #[test]
    fn the_most_common_correction_wins_and_ties_go_alphabetically() {
        let texts = ["phan bon huu co", "phan bon vi sinh", "phan bin"];
        assert_eq!(best_correction("phan", false, texts).as_deref(), None, "a word found as typed is no typo");
        assert_eq!(best_correction("bonn", false, texts).as_deref(), Some("bon"));
        assert_eq!(best_correction("sinhh", false, texts).as_deref(), Some("sinh"));
        assert_eq!(best_correction("bxn", false, ["bin", "bon"]).as_deref(), Some("bin"));
        assert_eq!(best_correction("nghein", true, ["nghien cuu"]).as_deref(), Some("nghien"));
    }

    #[test]
    fn every_sort_reads_back_from_its_word() {
        for word in Sort::WORDS {
            assert_eq!(Sort::parse(word).unwrap().as_str(), *word);
        }
        assert_eq!(Sort::parse("cheapest"), None);
        assert!(!Sort::PriceAscending.descending() && Sort::PriceDescending.descending());
    }

    #[test]
    fn filter_tokens_name_every_start_of_each_field_once_and_no_folded_word_reaches_them() {
        let codes = ["206".to_owned(), "211".to_owned(), "401".to_owned()];
        assert_eq!(
            filter_tokens("offer", "79", &codes),
            "/kind/offer /province/79 /field/2 /field/20 /field/206 /field/21 /field/211 /field/4 /field/40 /field/401"
        );
        assert_eq!(filter_tokens("demand", "01", &[]), "/kind/demand /province/01");
        for token in filter_tokens("offer", "79", &codes).split(' ') {
            assert!(token.starts_with('/') && !fold(token).contains('/'), "{token}");
        }
    }
}
