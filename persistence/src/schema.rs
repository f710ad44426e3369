// Kept by hand in portable SQL types only: times are UTC `Timestamp`, ids and JSON are `Text`.

diesel::table! {
    listings (id) {
        id -> Text,
        kind -> Text,
        status -> Text,
        province -> Text,
        province_as_sent -> Text,
        trl -> Nullable<BigInt>,
        price_amount -> Nullable<BigInt>,
        ip_status -> Text,
        publisher -> Nullable<Text>,
        source_exchange -> Nullable<Text>,
        source_external_id -> Nullable<Text>,
        title_vi -> Text,
        search_text -> Text,
        content -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listing_fields (listing_id, field_code) {
        listing_id -> Text,
        field_code -> Text,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        entity -> Text,
        entity_id -> Text,
        op -> Text,
        version -> BigInt,
        actor -> Nullable<Text>,
        at -> Timestamp,
        data -> Text,
    }
}

diesel::joinable!(listing_fields -> listings (listing_id));
diesel::allow_tables_to_appear_in_same_query!(listings, listing_fields, change_log);
