//! The SQL of a listing search on either backend: the full-text index narrows the rows (FTS5 on
//! SQLite, a GIN index over `to_tsvector('simple', ...)` on PostgreSQL), then the word patterns of
//! [`techex_domain::search`] decide, written as `LIKE` on the folded text, which both backends
//! read alike. The relevance score is the same patterns, weighted, summed in SQL.

use diesel::backend::Backend as DieselBackend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl, serialize::ToSql};
use techex_domain::search::{ScoreTarget, SearchQuery, lexeme};

use crate::db::{Backend, DbConn};
use crate::error::StoreError;

/// The most indexed words a prefix is spelled out as; a prefix that starts more keeps `:*`.
const PREFIX_WORDS_MAX: usize = 64;

/// The indexed words the last word of `query` stands for as a prefix (PostgreSQL), at most
/// [`PREFIX_WORDS_MAX`], from `search_words`: PostgreSQL's GIN index answers `'nuoc':*` by
/// collecting every row of every word that starts with it into one bitmap (270,000 rows at
/// 1,000,000 listings) before it can intersect the rest of the query, while the same words
/// spelled out are posting lists it skips through. `None`: keep the prefix (SQLite, whose FTS5
/// has a prefix index; no prefix; too many words; a word outside ASCII letters and digits,
/// which PostgreSQL's parser might split unlike the folded text).
pub fn prefix_words(conn: &mut DbConn, query: Option<&SearchQuery>) -> Result<Option<Vec<String>>, StoreError> {
    #[derive(QueryableByName)]
    struct Word {
        #[diesel(sql_type = Text)]
        word: String,
    }
    let DbConn::Pg(pg) = conn else { return Ok(None) };
    let Some(prefix) = query.and_then(SearchQuery::prefix_word) else { return Ok(None) };
    let Some(last) = prefix.bytes().last().filter(|_| prefix.bytes().all(|b| b.is_ascii_alphanumeric())) else {
        return Ok(None);
    };
    // The words from the prefix up to the prefix with its last letter raised by one (`nuod`):
    // a range of the column's byte order (`COLLATE "C"`), whatever the bound values' plan.
    let end = format!("{}{}", &prefix[..prefix.len() - 1], char::from(last + 1));
    let words: Vec<Word> =
        diesel::sql_query("SELECT word FROM search_words WHERE word >= $1 AND word < $2 ORDER BY word LIMIT $3")
            .bind::<Text, _>(prefix)
            .bind::<Text, _>(end)
            .bind::<BigInt, _>(PREFIX_WORDS_MAX as i64 + 1)
            .load(pg)?;
    Ok((words.len() <= PREFIX_WORDS_MAX).then(|| words.into_iter().map(|w| w.word).collect()))
}

/// Adds the words of `texts` (folded search texts of listings being written) to `search_words`
/// (PostgreSQL), in the writer's transaction, so a prefix finds a word as soon as its listing
/// is visible. The words go through the parser the index uses, sorted, so that two transactions
/// adding the same new words wait for each other in one order instead of deadlocking. Words
/// are never removed: one no listing holds any more only spells out a prefix with a word that
/// matches nothing.
pub fn add_words<'a>(conn: &mut DbConn, texts: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
    let DbConn::Pg(pg) = conn else { return Ok(()) };
    let words: std::collections::BTreeSet<&str> =
        texts.into_iter().flat_map(|t| t.split(' ')).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO search_words (word)
         SELECT word FROM unnest(tsvector_to_array(to_tsvector('simple', $1))) AS word
         ORDER BY word ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(words.into_iter().collect::<Vec<_>>().join(" "))
    .execute(pg)?;
    Ok(())
}

/// Which folded column of `listings` a pattern or index looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Title,
    Text,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Title => "search_title",
            Column::Text => "search_text",
        }
    }

    /// The text the column's PostgreSQL GIN index is built on, as its expression reads in the
    /// migrations (000004, 000026): the whole text's index also holds the listing's filter tokens
    /// (see [`techex_domain::search::IndexFilter`]), and each word and filter token within its
    /// province (`/79/nuoc`, `/79/field/20`, see [`techex_domain::search::scoped_token`]), made
    /// from the row itself so they follow its province.
    fn indexed(self) -> &'static str {
        match self {
            Column::Title => "listings.search_title",
            Column::Text => {
                "listings.search_text || ' ' || listings.search_filters || ' ' || \
                 regexp_replace(listings.search_text || ' ' || listings.search_filters, '(^| )/?', \
                 '\\1/' || listings.province || '/', 'g')"
            }
        }
    }
}

/// `listings` rows whose folded column the query matches: narrowed by the backend's index, decided
/// by the patterns. A boolean SQL expression with the query's words as bound parameters.
#[derive(Debug, Clone)]
pub struct Matches {
    backend: Backend,
    column: Column,
    /// The index query (FTS5 or tsquery), built from folded words only.
    index_query: String,
    patterns: Vec<String>,
}

impl Matches {
    /// `prefix_words`: what [`prefix_words`] found for the query, if anything; `provinces`: those
    /// to look the words up within on PostgreSQL (see [`SearchQuery::scope`]).
    pub fn new(
        backend: Backend,
        column: Column,
        query: &SearchQuery,
        prefix_words: Option<&[String]>,
        provinces: &[String],
    ) -> Matches {
        let (index_query, patterns) = match backend {
            Backend::Sqlite => (query.fts5(), query.conditions()),
            Backend::Postgres => {
                (query.tsquery(prefix_words, provinces), query.conditions_beside_index(prefix_words, provinces))
            }
        };
        Matches { backend, column, index_query, patterns }
    }

    /// The same rows narrowed to those holding, for each group of filter tokens (see
    /// [`techex_domain::search::IndexFilter`]), one of the group: on PostgreSQL the GIN index
    /// intersects them with the words. SQLite's FTS5 index holds the words only: there the
    /// caller's conditions on the filters alone decide.
    pub fn within(mut self, groups: &[Vec<String>]) -> Matches {
        if self.backend == Backend::Postgres {
            for group in groups.iter().filter(|group| !group.is_empty()) {
                let any: Vec<String> = group.iter().map(|token| lexeme(token)).collect();
                if !self.index_query.is_empty() {
                    self.index_query.push_str(" & ");
                }
                self.index_query.push_str(&format!("({})", any.join(" | ")));
            }
        }
        self
    }

    /// Rows holding, for each group of filter tokens, one of the group, found through
    /// PostgreSQL's index of the whole text alone (no words: every group must be a filter a
    /// listing's tokens decide, and one at least must be given).
    pub fn filters(groups: &[Vec<String>]) -> Matches {
        let none = Matches {
            backend: Backend::Postgres,
            column: Column::Text,
            index_query: String::new(),
            patterns: Vec::new(),
        };
        none.within(groups)
    }

    /// Rows whose column holds any of `words` (folded words, letters and digits only), found
    /// through the index alone: a whole word is a token of both indexes.
    pub fn any_word(backend: Backend, column: Column, words: &[String]) -> Matches {
        let index_query = match backend {
            Backend::Sqlite => words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR "),
            Backend::Postgres => words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" | "),
        };
        Matches { backend, column, index_query, patterns: Vec::new() }
    }

    /// Rows whose column matches any of `patterns` (no index: the typo fallback's scan).
    pub fn any_of(column: Column, patterns: Vec<String>) -> AnyOf {
        AnyOf { column, patterns }
    }
}

/// Rows whose folded column matches one of some patterns.
#[derive(Debug, Clone)]
pub struct AnyOf {
    column: Column,
    patterns: Vec<String>,
}

fn push_padded<DB: DieselBackend>(out: &mut AstPass<'_, '_, DB>, column: Column) {
    out.push_sql("(' ' || listings.");
    out.push_sql(column.name());
    out.push_sql(" || ' ')");
}

impl<DB> QueryFragment<DB> for Matches
where
    DB: DieselBackend,
    String: ToSql<Text, DB>,
    DB: diesel::sql_types::HasSqlType<Text>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(");
        match self.backend {
            Backend::Sqlite => {
                out.push_sql("listings.rowid IN (SELECT rowid FROM listings_fts WHERE listings_fts.");
                out.push_sql(self.column.name());
                out.push_sql(" MATCH ");
                out.push_bind_param::<Text, _>(&self.index_query)?;
                out.push_sql(")");
            }
            Backend::Postgres => {
                out.push_sql("to_tsvector('simple', ");
                out.push_sql(self.column.indexed());
                out.push_sql(") @@ to_tsquery('simple', ");
                out.push_bind_param::<Text, _>(&self.index_query)?;
                out.push_sql(")");
            }
        }
        for pattern in &self.patterns {
            out.push_sql(" AND ");
            push_padded(&mut out, self.column);
            out.push_sql(" LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for AnyOf
where
    DB: DieselBackend,
    String: ToSql<Text, DB>,
    DB: diesel::sql_types::HasSqlType<Text>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(1 = 0");
        for pattern in &self.patterns {
            out.push_sql(" OR ");
            push_padded(&mut out, self.column);
            out.push_sql(" LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// The relevance score of a listing for a query (see [`techex_domain::search`]), as a BIGINT.
#[derive(Debug, Clone)]
pub struct Score {
    parts: Vec<(Column, String, i64)>,
}

impl Score {
    pub fn of(query: &SearchQuery) -> Score {
        let parts = query
            .score_parts()
            .into_iter()
            .map(|(target, pattern, points)| {
                let column = match target {
                    ScoreTarget::Title => Column::Title,
                    ScoreTarget::Text => Column::Text,
                };
                (column, pattern, points)
            })
            .collect();
        Score { parts }
    }
}

impl<DB> QueryFragment<DB> for Score
where
    DB: DieselBackend,
    String: ToSql<Text, DB>,
    DB: diesel::sql_types::HasSqlType<Text>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Cast: PostgreSQL sums integer literals as INTEGER, read here as BIGINT.
        out.push_sql("CAST((0");
        for (column, pattern, points) in &self.parts {
            out.push_sql(" + CASE WHEN ");
            push_padded(&mut out, *column);
            out.push_sql(" LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            // A small whole number of the domain's table, not user input.
            out.push_sql(&format!(" THEN {points} ELSE 0 END"));
        }
        out.push_sql(") AS BIGINT)");
        Ok(())
    }
}

macro_rules! sql_expression {
    ($name:ident, $sql_type:ty) => {
        impl Expression for $name {
            type SqlType = $sql_type;
        }
        impl<QS> AppearsOnTable<QS> for $name {}
        impl<QS> SelectableExpression<QS> for $name {}
        impl<GB> ValidGrouping<GB> for $name {
            type IsAggregate = is_aggregate::Never;
        }
        impl QueryId for $name {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

/// `<column> IN (<ids>)` for ids a boxed query selects: a boxed subquery inside another query
/// does not compile over a MultiConnection, so the subquery is written out by hand.
pub struct IdIn<Q> {
    column: &'static str,
    ids: Q,
}

impl<Q> IdIn<Q> {
    /// `column` is a qualified column name of this crate's schema, never user input.
    pub fn new(column: &'static str, ids: Q) -> IdIn<Q> {
        IdIn { column, ids }
    }
}

impl<Q: QueryFragment<crate::listings::Backend>> QueryFragment<crate::listings::Backend> for IdIn<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, crate::listings::Backend>) -> QueryResult<()> {
        out.push_sql("(");
        out.push_sql(self.column);
        out.push_sql(" IN (");
        QueryFragment::<crate::listings::Backend>::walk_ast(&self.ids, out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

impl<Q> Expression for IdIn<Q> {
    type SqlType = Bool;
}
impl<Q, QS> AppearsOnTable<QS> for IdIn<Q> {}
impl<Q, QS> SelectableExpression<QS> for IdIn<Q> {}
impl<Q, GB> ValidGrouping<GB> for IdIn<Q> {
    type IsAggregate = is_aggregate::Never;
}
impl<Q> QueryId for IdIn<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

sql_expression!(Matches, Bool);
sql_expression!(AnyOf, Bool);
sql_expression!(Score, BigInt);
