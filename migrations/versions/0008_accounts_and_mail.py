"""Accounts without the command line: outbox, tokens, invitations, counters

Revision ID: 0008_accounts_and_mail
Revises: 0007_sync_outcomes
Create Date: 2026-12-02 01:00:00

New tables only, plus two nullable columns added in place (no table rebuild on
SQLite, so the data_version triggers of 0005 on `establishments` stay).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_accounts_and_mail'
down_revision = '0007_sync_outcomes'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('establishments',
                  sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_establishments_company_id_closed_at_siret', 'establishments',
                    ['company_id', 'closed_at', 'siret'])

    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=False),
        sa.Column('reply_to', sa.String(length=254), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status in ('pending', 'sent', 'failed')",
                           name=op.f('ck_outbox_messages_status_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbox_messages_message_id')),
    )
    op.create_index('ix_outbox_messages_status_next_attempt_at', 'outbox_messages',
                    ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_messages_created_at', 'outbox_messages', ['created_at'])

    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role in ('admin', 'member')", name=op.f('ck_invitations_role_known')),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ondelete='CASCADE',
                                name=op.f('fk_invitations_company_id_companies')),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_invitations_invited_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    )
    op.create_index('ix_invitations_company_id_email', 'invitations', ['company_id', 'email'])

    op.create_table(
        'account_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose in ('password_reset', 'invitation', 'email_change')",
                           name=op.f('ck_account_tokens_purpose_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_account_tokens_user_id_users')),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], ondelete='CASCADE',
                                name=op.f('fk_account_tokens_invitation_id_invitations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash')),
    )
    op.create_index('ix_account_tokens_user_id', 'account_tokens', ['user_id'])
    op.create_index('ix_account_tokens_invitation_id', 'account_tokens', ['invitation_id'])

    op.create_table(
        'rate_counters',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counters')),
    )


def downgrade():
    op.drop_table('rate_counters')
    op.drop_index('ix_account_tokens_invitation_id', table_name='account_tokens')
    op.drop_index('ix_account_tokens_user_id', table_name='account_tokens')
    op.drop_table('account_tokens')
    op.drop_index('ix_invitations_company_id_email', table_name='invitations')
    op.drop_table('invitations')
    op.drop_index('ix_outbox_messages_created_at', table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_status_next_attempt_at', table_name='outbox_messages')
    op.drop_table('outbox_messages')
    op.drop_index('ix_establishments_company_id_closed_at_siret', table_name='establishments')
    op.drop_column('establishments', 'closed_at')
    op.drop_column('users', 'last_login_at')
