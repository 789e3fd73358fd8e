-- Signed links name the blob key, not the asset id: downloads and direct uploads find their asset by it.
CREATE UNIQUE INDEX ux_assets_storage_key ON assets (storage_key);
