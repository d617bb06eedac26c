"""Who the caller is and what they may touch: tokens, credentials, accounts, access, ownership."""
