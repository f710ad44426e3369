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
        search_title -> Text,
        /// The kind, province and field tokens of its full-text index (see
        /// `techex_domain::search::IndexFilter`).
        search_filters -> Text,
    }
}

diesel::table! {
    listing_fields (listing_id, field_code) {
        listing_id -> Text,
        field_code -> Text,
    }
}

diesel::table! {
    /// `transfer_form:<word>`, `transfer_method:<word>`, `right:<word>` of a listing.
    listing_terms (listing_id, term) {
        listing_id -> Text,
        term -> Text,
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
        actor_organization -> Nullable<Text>,
        audience -> Text,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name_vi -> Text,
        province -> Text,
        tax_code -> Nullable<Text>,
        content -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        scopes -> Text,
        secret_hash -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    source_exchanges (code) {
        code -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    interests (id) {
        id -> Text,
        listing_id -> Text,
        sender_organization_id -> Nullable<Text>,
        sender_client_id -> Nullable<Text>,
        sender_name -> Nullable<Text>,
        sender_organization -> Nullable<Text>,
        sender_email -> Nullable<Text>,
        sender_phone -> Nullable<Text>,
        message -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(interests -> listings (listing_id));
diesel::table! {
    idempotency_keys (client_id, idempotency_key) {
        client_id -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Nullable<BigInt>,
        headers -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        committed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    centers (id) {
        id -> Text,
        kind -> Text,
        organization_id -> Text,
        name_vi -> Text,
        province -> Text,
        latitude -> Double,
        longitude -> Double,
        search_text -> Text,
        content -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    center_fields (center_id, field_code) {
        center_id -> Text,
        field_code -> Text,
    }
}

diesel::table! {
    center_services (center_id, service) {
        center_id -> Text,
        service -> Text,
    }
}

diesel::joinable!(center_fields -> centers (center_id));
diesel::joinable!(center_services -> centers (center_id));
diesel::joinable!(listing_fields -> listings (listing_id));
diesel::joinable!(listing_terms -> listings (listing_id));
diesel::joinable!(api_clients -> organizations (organization_id));
diesel::joinable!(source_exchanges -> organizations (organization_id));
diesel::allow_tables_to_appear_in_same_query!(
    listings,
    listing_fields,
    listing_terms,
    change_log,
    organizations,
    api_clients,
    source_exchanges,
    interests,
    idempotency_keys,
    centers,
    center_fields,
    center_services
);

diesel::table! {
    contracts (id) {
        id -> Text,
        status -> Text,
        transferor_org -> Nullable<Text>,
        transferee_org -> Nullable<Text>,
        brokered_by -> Nullable<Text>,
        recorded_by -> Text,
        listing_id -> Nullable<Text>,
        province -> Nullable<Text>,
        signed_on -> Nullable<Text>,
        registration_deadline -> Nullable<Text>,
        content -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        organization_id -> Text,
        client_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        failures -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> BigInt,
        at -> Timestamp,
        status_code -> Nullable<BigInt>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    /// No key: rows are signed changes, summed per (facet, value) (see `crate::facet_counts`).
    facet_counts (facet, value) {
        facet -> Text,
        value -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        leased_until -> Timestamp,
        position -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);
diesel::allow_tables_to_appear_in_same_query!(contracts, listings);

diesel::table! {
    mirrored_records (hub, entity, remote_id) {
        hub -> Text,
        entity -> Text,
        remote_id -> Text,
        local_id -> Text,
        remote_version -> BigInt,
        synced_at -> Timestamp,
    }
}

diesel::table! {
    sync_cursors (hub) {
        hub -> Text,
        cursor -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_searches (id) {
        id -> Text,
        organization_id -> Text,
        client_id -> Text,
        name -> Text,
        query -> Nullable<Text>,
        matches_for -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    search_matches (search_id, listing_id) {
        search_id -> Text,
        listing_id -> Text,
    }
}

diesel::table! {
    search_alerts (id) {
        id -> Text,
        search_id -> Text,
        listing_id -> Text,
        listing -> Text,
        score -> Nullable<BigInt>,
        reasons -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
