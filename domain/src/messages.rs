//! Every sentence the API may show a person, in each language it speaks. They live in this one
//! catalog, each entry with its stable code and its wording in English and Vietnamese side by
//! side, so a sentence cannot be added in one language only; a test renders every entry in both.

use std::fmt;

/// A language the API answers in. English unless the caller asks for Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Vi,
}

impl Lang {
    /// The language tag of `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Vi => "vi",
        }
    }
}

/// Declares the catalog: each entry is `Name => "code", "English", "Vietnamese";`, where `{name}`
/// in a sentence stands for an argument the message supplies.
macro_rules! catalog {
    ($($(#[$meta:meta])* $name:ident => $code:literal, $en:literal, $vi:literal;)+) => {
        /// One sentence of the catalog.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($(#[$meta])* $name),+ }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Text::$name),+];

            /// The code of the problem or field error this sentence explains.
            pub fn code(self) -> &'static str {
                match self { $(Text::$name => $code),+ }
            }

            /// The wording in `lang`, with its `{name}` placeholders.
            pub fn template(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Text::$name, Lang::En) => $en, (Text::$name, Lang::Vi) => $vi),+
                }
            }
        }
    };
}

catalog! {
    // What a JSON body or a query string must hold where it holds something else.
    Required => "required", "is required", "là trường bắt buộc";
    WholeNumber => "invalid_type", "must be a whole number, such as 7", "phải là một số nguyên, ví dụ 7";
    WholeNumberBetween => "invalid_value", "must be a whole number from {min} to {max}",
        "phải là một số nguyên từ {min} đến {max}";
    AmountInDong => "invalid_type",
        "must be a whole number of đồng, without dots or spaces, such as 450000000",
        "phải là một số nguyên tính bằng đồng, không có dấu chấm hay khoảng trắng, ví dụ 450000000";
    Number => "invalid_type", "must be a number, such as 2.5", "phải là một số, ví dụ 2.5";
    TextValue => "invalid_type", "must be text in double quotes, such as \"Máy sấy\"",
        "phải là văn bản đặt trong dấu ngoặc kép, ví dụ \"Máy sấy\"";
    TrueOrFalse => "invalid_type", "must be true or false", "phải là true hoặc false";
    ObjectValue => "invalid_type", "must be an object: named fields in braces { }",
        "phải là một đối tượng: các trường có tên đặt trong dấu ngoặc nhọn { }";
    ListValue => "invalid_type", "must be a list in square brackets [ ]",
        "phải là một danh sách đặt trong dấu ngoặc vuông [ ]";
    OneOf => "invalid_value", "must be one of: {allowed}", "phải là một trong các giá trị: {allowed}";
    IdValue => "invalid_value", "must be an id (UUID), such as 0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f",
        "phải là một mã định danh (UUID), ví dụ 0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f";
    DateTimeValue => "invalid_value",
        "must be a date and time with its offset from UTC (RFC 3339), such as 2027-06-30T17:00:00+07:00",
        "phải là ngày giờ kèm độ lệch so với UTC (RFC 3339), ví dụ 2027-06-30T17:00:00+07:00";
    WrongValue => "invalid_value", "is not a value this field accepts", "không phải là giá trị mà trường này chấp nhận";
    UnknownField => "unknown_field", "is not a field here; the fields here are: {known}",
        "không phải là trường hợp lệ ở đây; các trường hợp lệ: {known}";
    NoFieldsHere => "unknown_field", "is not a field here; nothing may be added here",
        "không phải là trường hợp lệ ở đây; không được thêm trường nào ở vị trí này";
    UnknownParameter => "unknown_field", "is not a query parameter here; the parameters are: {known}",
        "không phải là tham số truy vấn hợp lệ ở đây; các tham số hợp lệ: {known}";
    TooManyParameters => "too_many_parameters", "a query string may hold at most {max} parameters",
        "chuỗi truy vấn chỉ được có tối đa {max} tham số";
    TooManyValues => "too_many_values", "may take at most {max} values", "chỉ được nhận tối đa {max} giá trị";
    RepeatedParameter => "repeated_parameter",
        "is given twice with different values ('{first}', '{value}'); send it once",
        "được gửi hai lần với giá trị khác nhau ('{first}', '{value}'); hãy chỉ gửi một lần";
    UnknownFieldNames => "invalid_value", "{unknown}: not a field here; choose among: {known}",
        "{unknown}: không phải là trường hợp lệ ở đây; hãy chọn trong: {known}";
    NotTrueOrFalse => "invalid_value", "'{value}' is neither true nor false", "'{value}' không phải là true hay false";
    GivenTwice => "duplicate", "is given more than once", "được gửi nhiều hơn một lần";
    PatchObject => "invalid_type", "a merge patch must be a JSON object { }",
        "bản vá (merge patch) phải là một đối tượng JSON { }";

    // The rules of the domain.
    VietnameseRequired => "required", "Vietnamese text is required", "bắt buộc phải có nội dung tiếng Việt";
    NotEmpty => "required", "must not be empty", "không được để trống";
    ControlCharacter => "control_character", "contains the control character {character}; remove it",
        "chứa ký tự điều khiển {character}; hãy xóa ký tự này";
    TooLong => "too_long", "must be at most {max} characters long, not {length}",
        "chỉ được dài tối đa {max} ký tự, hiện có {length} ký tự";
    InvalidEmail => "invalid_email", "'{value}' is not an e-mail address such as lienhe@example.vn",
        "'{value}' không phải là địa chỉ e-mail hợp lệ, ví dụ lienhe@example.vn";
    InvalidPhone => "invalid_phone",
        "a phone number holds only digits, spaces and + - ( ) ., such as +84 28 3822 1234",
        "số điện thoại chỉ gồm chữ số, khoảng trắng và các ký tự + - ( ) ., ví dụ +84 28 3822 1234";
    InvalidUrl => "invalid_url", "must be a full web address starting with http:// or https://",
        "phải là một địa chỉ web đầy đủ, bắt đầu bằng http:// hoặc https://";
    ExchangeCode => "invalid_format", "must be 1 to 40 characters of a-z, 0-9, - and _, such as dongnai",
        "phải gồm 1 đến 40 ký tự a-z, 0-9, - và _, ví dụ dongnai";
    TooMany => "too_many", "may hold at most {max} items", "chỉ được có tối đa {max} mục";
    ListedTwice => "duplicate", "'{value}' is listed twice", "'{value}' bị liệt kê hai lần";
    FieldCodeRequired => "required", "at least one S&T field code is required (GET /v1/reference/fields)",
        "cần ít nhất một mã lĩnh vực KH&CN (GET /v1/reference/fields)";
    FieldTooBroad => "field_too_broad", "'{value}' is a broad field; use one of its three-digit fields",
        "'{value}' là lĩnh vực cấp rộng; hãy chọn một lĩnh vực ba chữ số thuộc lĩnh vực này";
    UnknownFieldCode => "unknown_field_code", "'{value}' is not an S&T field code (GET /v1/reference/fields)",
        "'{value}' không phải là mã lĩnh vực KH&CN (GET /v1/reference/fields)";
    TrlOutOfRange => "out_of_range", "the TRL must be from 1 to 9, not {value}",
        "mức độ sẵn sàng công nghệ (TRL) phải từ 1 đến 9, không phải {value}";
    NegativePrice => "negative", "a price cannot be negative", "giá không được là số âm";
    AmountOrNegotiable => "required", "give an amount in đồng, or mark the price negotiable",
        "hãy nhập số tiền bằng đồng, hoặc đánh dấu giá là thỏa thuận";
    OnlyVnd => "unsupported_currency", "prices are in VND", "giá phải tính bằng VND";
    // The listing fields exchanges use: price types, IP territory, co-owners, confidential details.
    AmountOnRequest => "not_allowed", "a price on request has no amount; leave the amount out or choose another type",
        "giá liên hệ không kèm số tiền; hãy bỏ trống số tiền hoặc chọn loại giá khác";
    AmountOfPriceType => "required", "a price of type {type} needs an amount in đồng",
        "giá thuộc loại “{type}” cần có số tiền bằng đồng";
    FirmNotNegotiable => "contradiction", "a firm price is not negotiable; set negotiable to false or choose another type",
        "giá cố định thì không thỏa thuận; hãy đặt negotiable là false hoặc chọn loại giá khác";
    CountryCodeNamed => "invalid_format", "'{value}' is not a two-letter country code (ISO 3166-1 alpha-2), such as VN",
        "'{value}' không phải là mã quốc gia hai chữ cái (ISO 3166-1 alpha-2), ví dụ VN";
    TerritoryWithoutRight => "not_applicable", "an IP territory needs an IP right: set ip_status, or leave the territory out",
        "phạm vi bảo hộ chỉ có khi có quyền sở hữu trí tuệ: hãy đặt ip_status, hoặc bỏ trống phạm vi bảo hộ";
    ShareOutOfRange => "out_of_range", "a share must be from 1 to 100 percent, not {value}",
        "tỷ lệ sở hữu phải từ 1 đến 100 phần trăm, không phải {value}";
    SharesOverWhole => "shares_exceed_whole", "the co-owners' shares add up to {total} percent; together they may hold at most 100",
        "tổng tỷ lệ của các đồng sở hữu là {total} phần trăm; cộng lại tối đa chỉ được 100";
    ConfidentialEmpty => "required", "a confidential section holds technical details, commercial terms or attachments; leave it out when there are none",
        "phần thông tin mật phải có chi tiết kỹ thuật, điều khoản thương mại hoặc tài liệu đính kèm; hãy bỏ trống nếu không có";
    UnknownProvince => "unknown_province", "'{value}' is not a province code (GET /v1/reference/provinces)",
        "'{value}' không phải là mã tỉnh, thành phố (GET /v1/reference/provinces)";
    ExpiryPast => "in_the_past", "the expiry must lie in the future", "thời hạn phải là một thời điểm trong tương lai";
    ExpiryTooFar => "too_far", "the expiry may lie at most {years} years ahead; leave it out for no expiry",
        "thời hạn chỉ được cách hiện tại tối đa {years} năm; bỏ trống nếu tin không có thời hạn";
    TaxCodeForm => "invalid_tax_code",
        "a tax code has 10 digits, or 10 digits, a dash and a 3-digit branch number, such as 0123456787-001",
        "mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số của đơn vị phụ thuộc, ví dụ 0123456787-001";
    TaxBranch => "invalid_tax_code", "a branch number has 3 digits and is not 000",
        "số của đơn vị phụ thuộc gồm 3 chữ số và không được là 000";
    TaxCheckDigit => "invalid_tax_code", "the check digit (the tenth) does not match; look for a typing mistake",
        "chữ số kiểm tra (chữ số thứ mười) không khớp; hãy kiểm tra lỗi đánh máy";
    PersonalIdNumber => "invalid_tax_code",
        "the tax code of an individual or a household business is its 12-digit personal identification number",
        "mã số thuế của cá nhân hoặc hộ kinh doanh là số định danh cá nhân gồm 12 chữ số";
    TooManyErrors => "too_many_errors", "only the first {max} problems are reported; fix these and send again",
        "chỉ {max} lỗi đầu tiên được báo; hãy sửa các lỗi này rồi gửi lại";

    // Rules the API checks against stored records and its own parameters.
    UnknownOrganization => "unknown_organization", "no organization has the id {id}",
        "không có tổ chức nào có mã {id}";
    NotYourOrganization => "not_your_organization",
        "name your own organization as the owner, or leave organization_id out",
        "hãy ghi tổ chức của chính bạn là chủ sở hữu, hoặc bỏ trống organization_id";
    SourceExchangeNotHeld => "source_exchange_not_held",
        "'{value}' is not a source exchange of the publishing organization; the operator registers them in the organization's source_exchanges",
        "'{value}' không phải là sàn nguồn của tổ chức đăng tin; đơn vị vận hành đăng ký sàn nguồn trong source_exchanges của tổ chức";
    PageLimit => "out_of_range", "must be a whole number from 1 to {max}", "phải là một số nguyên từ 1 đến {max}";
    DeletedAreWithdrawn => "invalid_value", "deleted listings are withdrawn: leave status out with deleted=true",
        "tin đã xóa ở trạng thái đã rút: hãy bỏ trống status khi dùng deleted=true";
    InvalidCursor => "invalid_cursor", "pass the next_cursor of a previous page unchanged",
        "hãy gửi lại nguyên vẹn giá trị next_cursor của trang trước";
    FieldFilter => "invalid_format", "must be one to three digits of an S&T field code, such as 2 or 211",
        "phải là mã lĩnh vực KH&CN gồm một đến ba chữ số, ví dụ 2 hoặc 211";
    // Listing search (q, sort, ranges, facets).
    QueryTooManyWords => "too_many_words", "may hold at most {max} words, not {words}",
        "chỉ được có tối đa {max} từ, không phải {words}";
    RelevanceNeedsQuery => "invalid_value", "sort=relevance needs a search query q",
        "sort=relevance cần có từ khóa tìm kiếm q";
    RangeReversed => "invalid_range", "must not be greater than {other} ({value} > {limit})",
        "không được lớn hơn {other} ({value} > {limit})";
    IncludeDeletedNeedsUpdatedSince => "required",
        "include_deleted=true needs updated_since: poll for what changed since your last poll, after a whole export (/v1/export/listings)",
        "include_deleted=true cần có updated_since: hãy hỏi những thay đổi kể từ lần hỏi trước, sau một lần xuất toàn bộ (/v1/export/listings)";
    IncludeDeletedPublishedOnly => "invalid_value",
        "include_deleted lists published listings and those taken off the market: leave status and deleted out",
        "include_deleted liệt kê tin đã công bố và tin đã rút khỏi sàn: hãy bỏ trống status và deleted";
    PriceRangeNeedsCurrency => "required", "a price range needs its currency: add currency=VND",
        "khoảng giá cần có đơn vị tiền tệ: hãy thêm currency=VND";
    NotInstant => "invalid_format", "must be a date and time in RFC 3339, such as 2026-11-01T00:00:00Z",
        "phải là ngày giờ theo RFC 3339, ví dụ 2026-11-01T00:00:00Z";
    CursorOfAnotherSort => "invalid_cursor",
        "this cursor belongs to another sort or query; pass the next_cursor of a previous page of the same search unchanged",
        "con trỏ này thuộc về cách sắp xếp hoặc từ khóa khác; hãy gửi lại nguyên vẹn next_cursor của trang trước của cùng lượt tìm kiếm";
    NotListingId => "invalid_format", "'{value}' is not a listing id (UUID)",
        "'{value}' không phải là mã tin công nghệ (UUID)";
    NotOrganizationId => "invalid_format", "'{value}' is not an organization id (UUID)",
        "'{value}' không phải là mã tổ chức (UUID)";
    NotInterestId => "invalid_format", "'{value}' is not an interest id (UUID)",
        "'{value}' không phải là mã bày tỏ quan tâm (UUID)";
    EmailOrPhone => "required", "give an e-mail address or a phone number (or both), so the publisher can answer",
        "hãy nhập địa chỉ e-mail hoặc số điện thoại (hoặc cả hai) để bên đăng tin có thể trả lời";
    NotClientId => "invalid_format", "'{value}' is not an API client id (UUID)",
        "'{value}' không phải là mã ứng dụng khách API (UUID)";

    // Transfer contracts (Law 07/2017/QH14, amended by Law 115/2025/QH15).
    CountryCode => "invalid_format", "must be a two-letter ISO 3166-1 country code, such as VN or JP",
        "phải là mã quốc gia hai chữ cái theo ISO 3166-1, ví dụ VN hoặc JP";
    CurrencyCode => "invalid_format", "must be a three-letter ISO 4217 currency code, such as VND or USD",
        "phải là mã tiền tệ ba chữ cái theo ISO 4217, ví dụ VND hoặc USD";
    ProvinceForVietnam => "required", "a party in Vietnam needs its province code",
        "bên ở Việt Nam cần có mã tỉnh, thành phố";
    DayOutOfRange => "out_of_range", "must be a day from {from} to ten years ahead",
        "phải là một ngày từ {from} đến mười năm tới";
    ObjectRequired => "required", "name at least one object of transfer (Law 07/2017/QH14 Art. 4)",
        "hãy nêu ít nhất một đối tượng công nghệ được chuyển giao (Điều 4 Luật 07/2017/QH14)";
    ObjectNotYetInLaw => "not_yet_in_law",
        "'{value}' is an object of transfer only for contracts signed from {from} (Law 115/2025/QH15)",
        "'{value}' chỉ là đối tượng chuyển giao đối với hợp đồng ký từ ngày {from} (Luật 115/2025/QH15)";
    EquipmentAlone => "equipment_alone",
        "machinery and equipment are transferred only together with know-how, plans, solutions or documents (Art. 4, Art. 6)",
        "máy móc, thiết bị chỉ được chuyển giao kèm theo bí quyết, phương án, giải pháp hoặc tài liệu công nghệ (Điều 4, Điều 6)";
    FormRequired => "required", "name at least one form of transfer (Law 07/2017/QH14 Art. 5)",
        "hãy nêu ít nhất một hình thức chuyển giao công nghệ (Điều 5 Luật 07/2017/QH14)";
    RoyaltyTerms => "required", "a royalty needs its rate in basis points and its base",
        "khoản trả theo phần trăm cần có tỷ lệ (phần vạn) và cơ sở tính";
    SignedInFuture => "in_the_future", "this day cannot lie in the future", "ngày này không được ở tương lai";
    EffectiveBeforeSigning => "before_signing", "this day cannot come before the contract was signed",
        "ngày này không được trước ngày ký hợp đồng";
    CertificateProvince => "required", "a certificate of a provincial department names its province",
        "giấy chứng nhận do Sở KH&CN cấp cần ghi mã tỉnh, thành phố";
    NotAParty => "not_a_party",
        "your organization must be a party to the contract (transferor or transferee) or the exchange that brokered it",
        "tổ chức của bạn phải là một bên của hợp đồng (bên giao hoặc bên nhận) hoặc sàn đã môi giới hợp đồng";
    UnknownListing => "unknown_listing", "no listing has the id {id}", "không có tin công nghệ nào có mã {id}";
    DayValue => "invalid_value", "must be a day written as 2026-04-01", "phải là một ngày viết dạng 2026-04-01";
    PeriodOrder => "invalid_value", "from must not come after to", "from không được sau to";
    NotContractId => "invalid_format", "'{value}' is not a contract id (UUID)",
        "'{value}' không phải là mã hợp đồng (UUID)";
    TitleContractNotFound => "contract_not_found", "Contract not found", "Không tìm thấy hợp đồng";
    NoSuchContract => "contract_not_found", "there is no contract with this id that you may see",
        "không có hợp đồng nào có mã này mà bạn được xem";
    ContractIllegalTransition => "illegal_transition", "a contract that is {status} cannot {action}",
        "hợp đồng ở trạng thái “{status}” không thể thực hiện thao tác “{action}”";
    TitleRegistrationRequired => "registration_required", "Registration required", "Cần đăng ký chuyển giao công nghệ";
    RegistrationRequired => "registration_required",
        "this contract must be registered (Law 07/2017/QH14 Art. 31) before it takes effect: record its registration certificate first",
        "hợp đồng này phải được đăng ký (Điều 31 Luật 07/2017/QH14) trước khi có hiệu lực: hãy ghi nhận giấy chứng nhận đăng ký trước";
    TitleContractLocked => "contract_locked", "Contract no longer edited", "Hợp đồng không còn được sửa";
    ContractLocked => "contract_locked", "a contract that is {status} is no longer edited",
        "hợp đồng ở trạng thái “{status}” không còn được sửa";
    // Portal sync: create-or-update by source, batches, Idempotency-Key.
    SourceMismatchesPath => "source_mismatch",
        "must name the exchange and external id of the path ({exchange}/{external_id}), or be left out",
        "phải ghi đúng sàn nguồn và mã ngoài của đường dẫn ({exchange}/{external_id}), hoặc bỏ trống";
    ExternalIdPath => "invalid_format",
        "'{value}' is not an external id: 1 to 100 characters without control characters or spaces at either end",
        "'{value}' không phải là mã ngoài: từ 1 đến 100 ký tự, không có ký tự điều khiển hay khoảng trắng ở hai đầu";
    ExchangePath => "invalid_format", "'{value}' is not a source exchange: 1 to 40 characters of a-z, 0-9, - and _",
        "'{value}' không phải là sàn nguồn: từ 1 đến 40 ký tự a-z, 0-9, - và _";
    BatchTargetOne => "invalid_value", "name the listing by exactly one of id and source",
        "hãy chỉ định tin bằng đúng một trong hai: id hoặc source";
    BatchListingRequired => "required", "an upsert carries the listing, with its source",
        "thao tác upsert phải kèm nội dung tin, có source";
    BatchNoListingHere => "unknown_field", "only an upsert carries a listing", "chỉ thao tác upsert mới kèm nội dung tin";
    BatchSourceRequired => "required", "a listing pushed in a batch names its source (exchange and external_id)",
        "tin gửi theo lô phải ghi source (exchange và external_id)";
    IdempotencyKeyMalformed => "invalid_header",
        "the Idempotency-Key header must be 1 to 255 visible ASCII characters, such as a UUID",
        "trường tiêu đề Idempotency-Key phải gồm từ 1 đến 255 ký tự ASCII hiển thị được, ví dụ một UUID";
    IdempotencyKeyReused => "idempotency_key_reused",
        "this Idempotency-Key was used for another request (another body or operation); use a new key for a new request",
        "Idempotency-Key này đã được dùng cho một yêu cầu khác (nội dung hoặc thao tác khác); hãy dùng khóa mới cho yêu cầu mới";
    IdempotencyInProgress => "idempotency_in_progress",
        "a request with this Idempotency-Key is still running; retry after Retry-After seconds to hear its answer",
        "một yêu cầu mang Idempotency-Key này vẫn đang được xử lý; hãy thử lại sau số giây ghi trong Retry-After để nhận kết quả";
    IdempotencyAnswerLost => "idempotency_answer_lost",
        "the request with this Idempotency-Key was carried out, but its answer was lost when the server stopped; read the resource to see the outcome",
        "yêu cầu mang Idempotency-Key này đã được thực hiện, nhưng kết quả trả lời bị mất khi máy chủ dừng; hãy đọc lại tài nguyên để biết kết quả";
    TitleSourceExchangeNotHeld => "source_exchange_not_held", "Source exchange not held",
        "Sàn nguồn không thuộc tổ chức";
    TitleIdempotencyKeyReused => "idempotency_key_reused", "Idempotency-Key reused", "Idempotency-Key bị dùng lại";
    TitleIdempotencyInProgress => "idempotency_in_progress", "Request with this Idempotency-Key in progress",
        "Yêu cầu mang Idempotency-Key này đang được xử lý";
    TitleIdempotencyAnswerLost => "idempotency_answer_lost", "Answer to this Idempotency-Key lost",
        "Kết quả của Idempotency-Key này bị mất";

    // The title of each problem, by its code.
    TitleMalformedJson => "malformed_json", "Malformed JSON", "JSON sai cú pháp";
    TitleValidationFailed => "validation_failed", "Validation failed", "Dữ liệu không hợp lệ";
    TitleInvalidQuery => "invalid_query", "Invalid query parameter", "Tham số truy vấn không hợp lệ";
    TitleInvalidPath => "invalid_path", "Invalid path parameter", "Tham số đường dẫn không hợp lệ";
    TitleBodyTooLarge => "body_too_large", "Body too large", "Nội dung yêu cầu quá lớn";
    TitleUnsupportedMediaType => "unsupported_media_type", "Unsupported media type", "Kiểu nội dung không được hỗ trợ";
    TitleListingNotFound => "listing_not_found", "Listing not found", "Không tìm thấy tin công nghệ";
    TitleOrganizationNotFound => "organization_not_found", "Organization not found", "Không tìm thấy tổ chức";
    TitleClientNotFound => "client_not_found", "API client not found", "Không tìm thấy ứng dụng khách API";
    TitleInterestNotFound => "interest_not_found", "Interest not found", "Không tìm thấy bày tỏ quan tâm";
    TitleListingNotOpen => "listing_not_open", "Listing not open to interests", "Tin không nhận bày tỏ quan tâm";
    TitleExportsBusy => "exports_busy", "Exports busy", "Đang bận xuất dữ liệu";
    ExportsBusy => "exports_busy", "as many exports are running as this server allows; retry in {seconds} seconds",
        "máy chủ đang chạy số lượt xuất dữ liệu tối đa cho phép; hãy thử lại sau {seconds} giây";
    TitleNotFound => "not_found", "Not found", "Không tìm thấy";
    TitleMethodNotAllowed => "method_not_allowed", "Method not allowed", "Phương thức không được phép";
    TitleIllegalTransition => "illegal_transition", "Illegal lifecycle move", "Không thể chuyển trạng thái";
    TitleEditConflict => "edit_conflict", "Concurrent edit", "Xung đột do chỉnh sửa đồng thời";
    TitleMirroredRecord => "mirrored_record", "Mirrored record", "Bản ghi sao chép từ sàn khác";
    TitleRestorePeriodOver => "restore_period_over", "Restore period over", "Đã quá thời hạn khôi phục";
    TitleDuplicateSource => "duplicate_source", "Duplicate source record", "Trùng bản ghi nguồn";
    TitleDuplicateTaxCode => "duplicate_tax_code", "Duplicate tax code", "Trùng mã số thuế";
    TitleDuplicateSourceExchange => "duplicate_source_exchange", "Source exchange held by another organization",
        "Sàn nguồn đã thuộc về tổ chức khác";
    TitleInvalidHeader => "invalid_header", "Invalid header", "Trường tiêu đề không hợp lệ";
    TitlePreconditionRequired => "precondition_required", "If-Match required", "Cần trường tiêu đề If-Match";
    TitleBodyTimeout => "body_timeout", "Request body too slow", "Nội dung yêu cầu đến quá chậm";
    TitleClientRevoked => "client_revoked", "Client revoked", "Ứng dụng khách đã bị thu hồi";
    TitleSelfLockout => "self_lockout", "Would lock the caller out", "Thao tác sẽ tự khóa quyền của bên gọi";
    TitleInvalidToken => "invalid_token", "Invalid access token", "Mã truy cập không hợp lệ";
    TitleUnauthorized => "unauthorized", "Authentication required", "Cần xác thực";
    TitleInsufficientScope => "insufficient_scope", "Insufficient scope", "Không đủ phạm vi quyền";
    TitleForbidden => "forbidden", "Forbidden", "Không có quyền";
    TitleSelfApproval => "self_approval", "Approval by the author's organization",
        "Phê duyệt bởi chính tổ chức đăng tin";
    TitlePreconditionFailed => "precondition_failed", "Version precondition failed", "Phiên bản không khớp";
    TitleBadRequest => "bad_request", "Bad request", "Yêu cầu không hợp lệ";
    TitleRateLimited => "rate_limited", "Too many requests", "Quá nhiều yêu cầu";
    TitleHttpError => "http_error", "Request failed", "Yêu cầu không thành công";
    TitleServiceUnavailable => "service_unavailable", "Service unavailable", "Dịch vụ tạm thời không khả dụng";
    TitleInternalError => "internal_error", "Internal error", "Lỗi máy chủ";

    // The detail of each problem.
    MalformedJsonAt => "malformed_json", "the body is not well-formed JSON: the mistake is at line {line}, column {column}",
        "nội dung yêu cầu không phải là JSON hợp lệ: lỗi nằm ở dòng {line}, cột {column}";
    BodyUnreadable => "malformed_json", "the body could not be read in full", "không đọc được trọn vẹn nội dung yêu cầu";
    InvalidFields => "validation_failed", "{count} field(s) are not as required; errors lists each",
        "{count} trường không đúng yêu cầu; xem từng trường trong errors";
    InvalidParameters => "invalid_query", "{count} query parameter(s) are not as required; errors lists each",
        "{count} tham số truy vấn không đúng yêu cầu; xem từng tham số trong errors";
    InvalidPathPart => "invalid_path", "the path is not as required; errors names the part",
        "đường dẫn không đúng yêu cầu; xem phần sai trong errors";
    BodyTooLarge => "body_too_large", "the body exceeds the limit of {limit} bytes",
        "nội dung yêu cầu vượt quá giới hạn {limit} byte";
    SendJson => "unsupported_media_type",
        "send the body as JSON (application/json, or application/merge-patch+json for a patch)",
        "hãy gửi nội dung dạng JSON (application/json, hoặc application/merge-patch+json cho bản vá)";
    NoSuchListing => "listing_not_found", "there is no listing with this id", "không có tin công nghệ nào có mã này";
    NoSuchOrganization => "organization_not_found", "there is no organization with this id",
        "không có tổ chức nào có mã này";
    NoSuchClient => "client_not_found", "there is no API client with this id",
        "không có ứng dụng khách API nào có mã này";
    NoSuchInterest => "interest_not_found", "this listing has no interest with this id",
        "tin này không có bày tỏ quan tâm nào có mã này";
    ListingNotOpen => "listing_not_open",
        "only published listings accept expressions of interest; this one is {status}",
        "chỉ tin đang công bố mới nhận bày tỏ quan tâm; tin này đang ở trạng thái “{status}”";
    NoRoute => "not_found", "nothing is served at {target}", "không có tài nguyên nào tại {target}";
    MethodNotAllowed => "method_not_allowed", "{method} is not allowed here; allowed: {allowed}",
        "không được dùng phương thức {method} tại đây; các phương thức được phép: {allowed}";
    IllegalTransition => "illegal_transition", "a listing that is {status} cannot be {action}",
        "tin ở trạng thái “{status}” không thể thực hiện thao tác “{action}”";
    EditConflict => "edit_conflict", "the record was changed by another write; read it again and retry",
        "bản ghi vừa được một thao tác khác thay đổi; hãy đọc lại rồi thử lại";
    MirroredRecord => "mirrored_record", "this record is mirrored from the hub {hub}, which alone changes it; edit it there",
        "bản ghi này được sao chép từ sàn {hub}, chỉ sàn đó được thay đổi; hãy sửa tại sàn đó";
    RestorePeriodOver => "restore_period_over",
        "a withdrawn or deleted listing may be restored within {days} days of its last change; this one's period is over",
        "tin đã rút hoặc đã xóa chỉ được khôi phục trong vòng {days} ngày kể từ lần thay đổi cuối; tin này đã quá thời hạn đó";
    DuplicateSource => "duplicate_source", "another listing already has this source exchange and external id",
        "đã có tin công nghệ khác mang cùng sàn nguồn và mã ngoài (external_id) này";
    DuplicateTaxCode => "duplicate_tax_code", "another organization already has this tax code",
        "đã có tổ chức khác mang mã số thuế này";
    DuplicateSourceExchange => "duplicate_source_exchange",
        "a source exchange name in source_exchanges already belongs to another organization",
        "một tên sàn nguồn trong source_exchanges đã thuộc về tổ chức khác";
    VersionMismatch => "precondition_failed",
        "the record is at version {current} (ETag \"v{current}\"); If-Match named another",
        "bản ghi đang ở phiên bản {current} (ETag \"v{current}\"); If-Match ghi một phiên bản khác";
    IfMatchNotAscii => "invalid_header", "the If-Match header holds characters other than visible ASCII",
        "trường tiêu đề If-Match chứa ký tự ngoài bảng ASCII hiển thị được";
    IfMatchMalformed => "invalid_header",
        "the If-Match header is malformed: send * or entity tags such as \"v3\", as the ETag header gave them",
        "trường tiêu đề If-Match sai định dạng: hãy gửi * hoặc thẻ thực thể như \"v3\", đúng như trường ETag đã trả về";
    IfNoneMatchTooLong => "invalid_header",
        "the If-None-Match header is too long: send the ETags earlier reads gave",
        "trường tiêu đề If-None-Match quá dài: hãy gửi các ETag mà những lần đọc trước đã trả về";
    ApproveWithIfMatch => "precondition_required",
        "approve with If-Match naming the ETag of the version reviewed, so that the approval covers what was read",
        "hãy phê duyệt kèm If-Match ghi ETag của phiên bản đã xem xét, để việc phê duyệt áp dụng đúng nội dung đã đọc";
    BodyTimeout => "body_timeout", "the request body did not arrive within {seconds} s",
        "nội dung yêu cầu không đến kịp trong vòng {seconds} giây";
    ClientIsRevoked => "client_revoked", "the client is revoked", "ứng dụng khách này đã bị thu hồi";
    SelfLockout => "self_lockout",
        "an operator may not revoke, or take admin from, the client it is calling with",
        "đơn vị vận hành không được thu hồi, hoặc gỡ quyền admin của, chính ứng dụng khách đang dùng để gọi";
    TokenRefused => "invalid_token",
        "the access token is missing, malformed, expired, revoked or not for this API",
        "mã truy cập bị thiếu, sai định dạng, đã hết hạn, đã bị thu hồi hoặc không dành cho API này";
    NeedsToken => "unauthorized", "this operation needs an access token", "thao tác này cần mã truy cập";
    NeedsScope => "insufficient_scope", "this operation needs the scope {scope}",
        "thao tác này cần phạm vi quyền {scope}";
    NotOwner => "forbidden", "only the publishing organization may change this listing",
        "chỉ tổ chức đăng tin mới được thay đổi tin này";
    SelfApproval => "self_approval",
        "a listing is approved by a moderator of another organization than its publisher",
        "tin phải được kiểm duyệt viên của một tổ chức khác với tổ chức đăng tin phê duyệt";
    RetryLater => "rate_limited", "too many requests; wait as long as Retry-After says, then retry",
        "quá nhiều yêu cầu; hãy chờ hết thời gian ghi trong Retry-After rồi thử lại";
    CrossOriginRefused => "bad_request",
        "the request was refused before it reached the API, most often a browser script from an origin, or with a method or headers, that the CORS settings do not allow",
        "yêu cầu bị từ chối trước khi đến API, thường là do mã kịch bản trình duyệt gửi từ một nguồn gốc (origin), hoặc với phương thức hay trường tiêu đề, mà cấu hình CORS không cho phép";
    Refused => "http_error", "the request was refused ({reason})", "yêu cầu bị từ chối ({reason})";
    StoreBusy => "service_unavailable",
        "the database is busy with other requests; retry after the seconds Retry-After gives (the X-Request-Id response header identifies this request in the server's log)",
        "cơ sở dữ liệu đang bận với các yêu cầu khác; hãy thử lại sau số giây ghi trong Retry-After (trường tiêu đề X-Request-Id của phản hồi xác định yêu cầu này trong nhật ký máy chủ)";
    StoreUnreachable => "service_unavailable",
        "the database is not reachable; the X-Request-Id response header identifies this request in the server's log",
        "không kết nối được cơ sở dữ liệu; trường tiêu đề X-Request-Id của phản hồi xác định yêu cầu này trong nhật ký máy chủ";
    ServerStopping => "service_unavailable",
        "this server is stopping and did not run the request; send it again (another server of the hub takes it)",
        "máy chủ này đang dừng và chưa thực hiện yêu cầu; hãy gửi lại (một máy chủ khác của hệ thống sẽ nhận)";
    // Application centers (`/v1/centers`).
    CoordinateOutsideVietnam => "out_of_range",
        "must be from {min} to {max} decimal degrees (Vietnam, its islands included), not {value}",
        "phải từ {min} đến {max} độ thập phân (lãnh thổ Việt Nam, kể cả các đảo), không phải {value}";
    NearFormat => "invalid_format",
        "must be a latitude and a longitude in decimal degrees, separated by a comma, such as 10.7769,106.7009",
        "phải là vĩ độ và kinh độ bằng độ thập phân, cách nhau bởi dấu phẩy, ví dụ 10.7769,106.7009";
    NearOutOfRange => "out_of_range", "the latitude must be from -90 to 90 and the longitude from -180 to 180",
        "vĩ độ phải từ -90 đến 90 và kinh độ từ -180 đến 180";
    RadiusRange => "out_of_range", "must be a number of kilometres above 0 and at most {max}, such as 25",
        "phải là số ki-lô-mét lớn hơn 0 và không quá {max}, ví dụ 25";
    RadiusNeedsNear => "required", "radius_km needs near, the point to measure from",
        "radius_km cần có near, điểm dùng để đo khoảng cách";
    TooManyWords => "too_many", "a search may hold at most {max} words", "từ khóa tìm kiếm chỉ được có tối đa {max} từ";
    NotCenterId => "invalid_format", "'{value}' is not a center id (UUID)", "'{value}' không phải là mã trung tâm (UUID)";
    NotCenterOwner => "forbidden", "only the organization the center belongs to may change it",
        "chỉ tổ chức quản lý trung tâm mới được thay đổi trung tâm này";
    TitleCenterNotFound => "center_not_found", "Center not found", "Không tìm thấy trung tâm";
    NoSuchCenter => "center_not_found", "there is no center with this id", "không có trung tâm nào có mã này";
    // Why an offer and a demand match (`GET /v1/listings/{id}/matches`).
    MatchSharedWords => "shared_words", "both speak of: {words}", "cả hai cùng nói về: {words}";
    MatchSameField => "same_field", "same S&T field: {code} {field}", "cùng lĩnh vực KH&CN: {code} {field}";
    MatchFieldParent => "field_parent", "S&T fields under the same broad field: {code} {field}",
        "lĩnh vực KH&CN thuộc cùng lĩnh vực lớn: {code} {field}";
    MatchTrlMeets => "trl_meets", "the offer reaches TRL {offer}, the demand asks for {demand}",
        "công nghệ chào bán đạt TRL {offer}, nhu cầu cần TRL {demand}";
    MatchTrlNear => "trl_near", "the offer reaches TRL {offer}, one level below the {demand} asked for",
        "công nghệ chào bán đạt TRL {offer}, thấp hơn một mức so với TRL {demand} cần có";
    MatchTransferForm => "transfer_form", "both accept the transfer form: {forms}",
        "cả hai chấp nhận hình thức chuyển giao: {forms}";
    MatchRights => "rights", "both accept the rights: {rights}", "cả hai chấp nhận quyền: {rights}";
    MatchPriceWithinBudget => "price_within_budget", "the price {price} {currency} is within the budget {budget} {currency}",
        "giá {price} {currency} nằm trong ngân sách {budget} {currency}";
    MatchSameProvince => "same_province", "same province: {province}", "cùng tỉnh/thành phố: {province}";
    MatchSameRegion => "same_region", "same region: {region}", "cùng vùng: {region}";
    NotWebhookId => "invalid_format", "'{value}' is not a webhook id (UUID)", "'{value}' không phải là mã webhook (UUID)";
    TitleWebhookNotFound => "webhook_not_found", "Webhook not found", "Không tìm thấy webhook";
    NoSuchWebhook => "webhook_not_found", "there is no webhook with this id, or it belongs to another organization",
        "không có webhook nào có mã này, hoặc webhook thuộc tổ chức khác";
    TitleDeliveryNotFound => "delivery_not_found", "Delivery not found", "Không tìm thấy lần gửi";
    NoSuchDelivery => "delivery_not_found", "this webhook has no delivery with this id",
        "webhook này không có lần gửi nào có mã này";
    WebhookUrl => "invalid_url", "must be an absolute https:// URL of at most {max} characters",
        "phải là một URL https:// đầy đủ, dài tối đa {max} ký tự";
    WebhookUrlNotHttps => "not_https", "must use https (plain http only to this machine, when the operator allows it)",
        "phải dùng https (http thường chỉ được dùng tới chính máy chủ này, khi nhà vận hành cho phép)";
    WebhookUrlInternal => "internal_address",
        "must not point into a private, loopback or link-local network",
        "không được trỏ vào mạng riêng, địa chỉ loopback hoặc link-local";
    EventType => "invalid_value",
        "'{value}' is not an event type: use '*', '<entity>.*' or '<entity>.<op>' with an entity of {allowed}",
        "'{value}' không phải là loại sự kiện: dùng '*', '<entity>.*' hoặc '<entity>.<op>' với entity là một trong {allowed}";
    EventTypesCount => "invalid_length", "must hold 1 to {max} event types", "phải có từ 1 đến {max} loại sự kiện";
    TooManyWebhooks => "too_many", "an organization may keep at most {max} webhooks",
        "một tổ chức chỉ được có tối đa {max} webhook";
    NotSearchId => "invalid_format", "'{value}' is not a saved search id (UUID)",
        "'{value}' không phải là mã tìm kiếm đã lưu (UUID)";
    TitleSearchNotFound => "search_not_found", "Saved search not found", "Không tìm thấy tìm kiếm đã lưu";
    NoSuchSearch => "search_not_found", "there is no saved search with this id, or it belongs to another organization",
        "không có tìm kiếm đã lưu nào có mã này, hoặc tìm kiếm thuộc tổ chức khác";
    TooManySearches => "too_many", "an organization may keep at most {max} saved searches and match subscriptions",
        "một tổ chức chỉ được có tối đa {max} tìm kiếm đã lưu và đăng ký nhận kết quả phù hợp";
    SearchKind => "invalid_value", "give either 'query' (a saved search) or 'matches_for' (a match subscription), not both",
        "cần có 'query' (tìm kiếm đã lưu) hoặc 'matches_for' (đăng ký nhận kết quả phù hợp), không được có cả hai";
    NotInSavedSearch => "not_in_saved_search",
        "'{name}' has no place in a saved search: it alerts on published listings, in no order and without pages",
        "'{name}' không dùng được trong tìm kiếm đã lưu: cảnh báo chỉ về tin đã công bố, không sắp xếp và không phân trang";
    MatchesForUnknown => "listing_not_found", "there is no listing with this id in your organization",
        "tổ chức của bạn không có tin nào có mã này";
    MatchesForFixed => "invalid_value", "a match subscription keeps its listing; make another one for another listing",
        "đăng ký nhận kết quả phù hợp giữ nguyên tin của nó; hãy tạo đăng ký khác cho tin khác";
    ServerFault => "internal_error",
        "the server failed; the X-Request-Id response header identifies this request in the server's log",
        "máy chủ gặp lỗi; trường tiêu đề X-Request-Id của phản hồi xác định yêu cầu này trong nhật ký máy chủ";
}

/// A value put into a sentence: the same in every language (a number, the client's own text),
/// or a word of the API's vocabulary that has a label in each.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Plain(String),
    Words { en: &'static str, vi: &'static str },
}

/// A sentence of the catalog with its arguments, rendered in a language when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    text: Text,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub fn new(text: Text) -> Self {
        Message { text, args: Vec::new() }
    }

    /// Fills `{name}` with `value`, the same in every language.
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, Arg::Plain(value.to_string())));
        self
    }

    /// Fills `{name}` with a word that reads `en` in English and `vi` in Vietnamese.
    pub fn with_words(mut self, name: &'static str, en: &'static str, vi: &'static str) -> Self {
        self.args.push((name, Arg::Words { en, vi }));
        self
    }

    pub fn text(&self) -> Text {
        self.text
    }

    pub fn render(&self, lang: Lang) -> String {
        let template = self.text.template(lang);
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        // One pass, so that an argument holding braces (a client's text) is never expanded.
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').map(|close| (&after[..close], close)) {
                Some((name, close)) if placeholder(name) => {
                    match self.args.iter().find(|(n, _)| *n == name).map(|(_, arg)| arg) {
                        Some(Arg::Plain(value)) => out.push_str(value),
                        Some(Arg::Words { en, vi }) => out.push_str(if lang == Lang::Vi { vi } else { en }),
                        None => out.push_str(&rest[open..open + close + 2]),
                    }
                    rest = &after[close + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn placeholder(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Message::new(text)
    }
}

/// English, for logs.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(template: &str) -> BTreeSet<&str> {
        template
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}'))
            .map(|(name, _)| name)
            .filter(|n| placeholder(n))
            .collect()
    }

    #[test]
    fn every_sentence_exists_in_both_languages_with_the_same_placeholders() {
        for &text in Text::ALL {
            let (en, vi) = (text.template(Lang::En), text.template(Lang::Vi));
            assert!(!en.trim().is_empty() && !vi.trim().is_empty(), "{text:?} is blank in a language");
            assert_ne!(en, vi, "{text:?} is not translated");
            assert_eq!(placeholders(en), placeholders(vi), "{text:?} fills different places per language");
            assert!(!text.code().is_empty() && text.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn languages_are_tagged_as_content_language_names_them() {
        assert_eq!((Lang::En.tag(), Lang::Vi.tag()), ("en", "vi"));
    }

    #[test]
    fn arguments_fill_their_places_once_and_per_language() {
        let message = Message::new(Text::IllegalTransition).with_words("status", "withdrawn", "Đã rút").with_words(
            "action",
            "published",
            "Công bố",
        );
        assert_eq!(message.render(Lang::En), "a listing that is withdrawn cannot be published");
        assert_eq!(message.render(Lang::Vi), "tin ở trạng thái “Đã rút” không thể thực hiện thao tác “Công bố”");
        let braces = Message::new(Text::ListedTwice).with("value", "{value}");
        assert_eq!(braces.render(Lang::En), "'{value}' is listed twice");
        assert_eq!(
            Message::new(Text::TooLong).with("max", 300).render(Lang::En),
            "must be at most 300 characters long, not {length}"
        );
    }
}
