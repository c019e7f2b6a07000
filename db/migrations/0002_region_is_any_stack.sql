-- A tenant's home region is any stack of the platform.
--
-- 0001 listed the three first stacks, so a fourth region (which joins by its stack file)
-- could home no tenant without a migration. The stack files are the list of regions; the
-- database keeps the rule every stack name follows (STACK_NAME in infra/config/base.py:
-- lower-case letters, digits and hyphens, 2 to 20 characters), so a malformed value is
-- still refused here.

SET ROLE hse_owner;

ALTER TABLE app.organizations DROP CONSTRAINT organizations_region_check;
ALTER TABLE app.organizations ADD CONSTRAINT organizations_region_is_a_stack_name
    CHECK (region ~ '^[a-z][a-z0-9-]{0,18}[a-z0-9]$');

RESET ROLE;
