"""Relations keep their standing: unheld required slots and the day the others lapse

Revision ID: 0013_relation_standing
Revises: 0012_relation_code_key
Create Date: 2026-12-04 19:00:00

"Mes fournisseurs" counted the conforming suppliers of a client by computing
every relation's compliance on each view. `relations.unheld_slots` and
`relations.held_until` hold what hiveo.relations.compliance.standing_select()
computes (no day in it: compliant on day D is unheld_slots = 0 and held_until
NULL or >= D); hiveo/relations/figures.py writes them from now on. This
migration fills them for the relations already there, with its own SQL (the
rule as it stands at this revision, so that later code cannot change what
it does); tests/integration/test_migration_0013.py checks that it agrees with
standing_select(). An index of (client_id, state, unheld_slots, held_until) replaces
that of (client_id, state), so that the header counts from the index alone, and one of
(client_id, category) gives the category filter its choices. The downgrade puts the old
index back and drops the new ones and both columns: nothing else reads them.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_relation_standing'
down_revision = '0012_relation_code_key'
branch_labels = None
depends_on = None

# Per relation: its rule set (its category's when the client has one, else the default
# set ""), its required slots (company level; each open establishment it covers for
# establishment level), and what holds each slot: the earliest end of the slot's current
# documents when every one is validated and not declared expired by its provider.
STANDING = """
WITH relation AS (
    SELECT r.id AS relation_id, r.client_id, r.supplier_id,
           CASE WHEN EXISTS (SELECT 1 FROM requirements q
                             WHERE q.client_id = r.client_id AND q.category = r.category
                               AND r.category <> '')
                THEN r.category ELSE '' END AS rule_set,
           EXISTS (SELECT 1 FROM relation_establishments n
                   WHERE n.relation_id = r.id) AS narrowed
    FROM relations r
),
held AS (
    SELECT d.company_id, d.establishment_id, d.doc_type,
           CASE WHEN SUM(CASE WHEN d.review_state = 'validated'
                               AND (d.provider_state IS NULL OR d.provider_state <> 'expired')
                              THEN 0 ELSE 1 END) = 0
                THEN MIN(d.effective_end) END AS held_until
    FROM documents d
    WHERE d.is_current AND d.archived_at IS NULL
    GROUP BY d.company_id, d.establishment_id, d.doc_type
),
slots AS (
    SELECT relation.relation_id, held.held_until
    FROM relation
    JOIN requirements q ON q.client_id = relation.client_id
                       AND q.category = relation.rule_set AND q.level = 'company'
    LEFT JOIN held ON held.company_id = relation.supplier_id
                  AND held.establishment_id IS NULL AND held.doc_type = q.doc_type
    UNION ALL
    SELECT relation.relation_id, held.held_until
    FROM relation
    JOIN requirements q ON q.client_id = relation.client_id
                       AND q.category = relation.rule_set AND q.level = 'establishment'
    JOIN establishments e ON e.company_id = relation.supplier_id AND e.closed_at IS NULL
    LEFT JOIN held ON held.establishment_id = e.id AND held.doc_type = q.doc_type
    WHERE NOT relation.narrowed
       OR EXISTS (SELECT 1 FROM relation_establishments n
                  WHERE n.relation_id = relation.relation_id AND n.establishment_id = e.id)
)
SELECT relation_id, SUM(CASE WHEN held_until IS NULL THEN 1 ELSE 0 END) AS unheld,
       MIN(held_until) AS held_until
FROM slots
GROUP BY relation_id
"""


def upgrade():
    op.add_column('relations', sa.Column('unheld_slots', sa.Integer(), nullable=False,
                                         server_default='0'))
    op.add_column('relations', sa.Column('held_until', sa.Date(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(STANDING).columns(relation_id=sa.Integer(), unheld=sa.Integer(),
                                  held_until=sa.Date())).all()
    relations = sa.table('relations', sa.column('id', sa.Integer()),
                         sa.column('unheld_slots', sa.Integer()),
                         sa.column('held_until', sa.Date()))
    for start in range(0, len(rows), 1000):
        connection.execute(
            relations.update().where(relations.c.id == sa.bindparam('relation_id'))
            .values(unheld_slots=sa.bindparam('unheld'), held_until=sa.bindparam('until')),
            [{'relation_id': relation_id, 'unheld': unheld, 'until': held_until}
             for relation_id, unheld, held_until in rows[start:start + 1000]])
    # The counts header reads this index alone; it covers what (client_id, state) served.
    op.create_index('ix_relations_client_standing', 'relations',
                    ['client_id', 'state', 'unheld_slots', 'held_until'])
    op.drop_index('ix_relations_client_id_state', table_name='relations')
    # The categories of the list's filter, from an index too.
    op.create_index('ix_relations_client_id_category', 'relations', ['client_id', 'category'])


def downgrade():
    op.drop_index('ix_relations_client_id_category', table_name='relations')
    op.create_index('ix_relations_client_id_state', 'relations', ['client_id', 'state'])
    op.drop_index('ix_relations_client_standing', table_name='relations')
    # Plain ALTER TABLEs (SQLite 3.35+), as in 0006, 0011 and 0012.
    op.drop_column('relations', 'held_until')
    op.drop_column('relations', 'unheld_slots')
