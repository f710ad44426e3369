//! The controlled vocabularies of the domain: each word with its Vietnamese and English label,
//! as records store them and `GET /v1/reference/enumerations` lists them. The rules that use the
//! words (which status may follow which) live with their resource.

word_enum!(
    /// An offer of technology (supply) or a demand for one (request).
    ListingKind { Offer => "offer", "Chào bán công nghệ", "Technology offer", Demand => "demand", "Nhu cầu công nghệ", "Technology demand" }
);

word_enum!(
    ListingStatus {
        Draft => "draft", "Bản nháp", "Draft",
        PendingReview => "pending_review", "Chờ duyệt", "Pending review",
        Published => "published", "Đã công bố", "Published",
        Withdrawn => "withdrawn", "Đã rút", "Withdrawn",
        Expired => "expired", "Hết hạn", "Expired",
        Closed => "closed", "Đã kết thúc", "Closed",
        Rejected => "rejected", "Bị từ chối", "Rejected",
    }
);

word_enum!(
    /// A move a client asks for through `POST /v1/listings/{id}/{action}`.
    LifecycleAction {
        Submit => "submit", "Gửi duyệt", "Submit for review",
        Publish => "publish", "Công bố", "Publish",
        Reject => "reject", "Từ chối", "Reject",
        Withdraw => "withdraw", "Rút tin", "Withdraw",
        Close => "close", "Kết thúc", "Close",
        Restore => "restore", "Khôi phục", "Restore",
    }
);

word_enum!(
    /// Intellectual property protection of the technology, named by the title of protection granted
    /// (Law on Intellectual Property Art. 92); `pending` is an application filed and not yet granted.
    IpStatus {
        Patent => "patent", "Bằng độc quyền sáng chế", "Patent",
        UtilitySolution => "utility_solution", "Bằng độc quyền giải pháp hữu ích", "Utility solution patent",
        IndustrialDesign => "industrial_design", "Bằng độc quyền kiểu dáng công nghiệp", "Industrial design patent",
        PlantVariety => "plant_variety", "Bằng bảo hộ giống cây trồng", "Plant variety protection certificate",
        Copyright => "copyright", "Quyền tác giả", "Copyright",
        TradeSecret => "trade_secret", "Bí mật kinh doanh", "Trade secret",
        Pending => "pending", "Đã nộp đơn, đang chờ cấp văn bằng", "Application filed, awaiting grant",
        None => "none", "Chưa được bảo hộ", "Not protected",
    }
);

word_enum!(
    /// Forms of technology transfer, Law 07/2017/QH14 Art. 5. A sale of machinery alone is no
    /// technology transfer: `equipment_sale` is machinery and equipment sold with the technology.
    TransferForm {
        Independent => "independent", "Chuyển giao công nghệ độc lập", "Stand-alone technology transfer",
        InvestmentProject => "investment_project", "Phần chuyển giao công nghệ trong dự án đầu tư", "Technology transfer within an investment project",
        CapitalContribution => "capital_contribution", "Góp vốn bằng công nghệ", "Capital contribution in technology",
        Franchise => "franchise", "Nhượng quyền thương mại", "Franchising",
        IpTransfer => "ip_transfer", "Chuyển giao quyền sở hữu trí tuệ", "Transfer of IP rights",
        EquipmentSale => "equipment_sale", "Mua bán máy móc, thiết bị kèm theo đối tượng công nghệ", "Sale of machinery and equipment accompanying the technology",
        Other => "other", "Hình thức khác", "Other form",
    }
);

word_enum!(
    /// Methods of technology transfer, Law 07/2017/QH14 Art. 6.
    TransferMethod {
        Documents => "documents", "Chuyển giao tài liệu về công nghệ", "Technology documents",
        Training => "training", "Đào tạo", "Training",
        ExpertAssistance => "expert_assistance", "Cử chuyên gia tư vấn kỹ thuật", "Technical experts on site",
        EquipmentWithKnowhow => "equipment_with_knowhow", "Chuyển giao máy móc, thiết bị kèm công nghệ", "Machinery with know-how",
        Other => "other", "Phương thức khác", "Other method",
    }
);

word_enum!(
    /// Rights offered or sought: ownership, or the right to use, exclusive or not.
    Right { Ownership => "ownership", "Quyền sở hữu công nghệ", "Ownership", ExclusiveUse => "exclusive_use", "Quyền sử dụng độc quyền", "Exclusive right to use", NonExclusiveUse => "non_exclusive_use", "Quyền sử dụng không độc quyền", "Non-exclusive right to use" }
);

word_enum!(
    MediaKind { Image => "image", "Hình ảnh", "Image", Video => "video", "Video", "Video", Document => "document", "Tài liệu", "Document", Link => "link", "Liên kết", "Link" }
);

word_enum!(
    OrganizationKind {
        Exchange => "exchange", "Sàn giao dịch công nghệ", "Technology exchange",
        StDepartment => "st_department", "Sở Khoa học và Công nghệ", "Department of Science and Technology",
        ApplicationCenter => "application_center", "Trung tâm ứng dụng tiến bộ KH&CN", "S&T application center",
        Enterprise => "enterprise", "Doanh nghiệp", "Enterprise",
        University => "university", "Trường đại học", "University",
        ResearchInstitute => "research_institute", "Viện nghiên cứu", "Research institute",
        Other => "other", "Tổ chức khác", "Other organization",
    }
);

word_enum!(
    /// What a price's amount means to a buyer: a guide (`indicative`), the least the seller takes
    /// (`floor`), the price itself (`firm`), or no amount published (`on_request`).
    PriceType {
        Indicative => "indicative", "Giá tham khảo", "Indicative price",
        Floor => "floor", "Giá sàn", "Floor price",
        Firm => "firm", "Giá cố định", "Firm price",
        OnRequest => "on_request", "Giá liên hệ", "Price on request",
    }
);

word_enum!(
    /// How far the technology has come from the bench to the market.
    DevelopmentStage {
        Laboratory => "laboratory", "Quy mô phòng thí nghiệm", "Laboratory scale",
        Pilot => "pilot", "Quy mô thử nghiệm (pilot)", "Pilot scale",
        ProductionScale => "production_scale", "Quy mô sản xuất công nghiệp", "Production scale",
        Commercial => "commercial", "Đã thương mại hóa", "Commercialized",
    }
);
