"""initial schema

Revision 0001, the first revision. Planned by backsmith from the contract:
- create table authors
- create table books
- create table genres
- create table book_genres
- create table customers
- create table orders
- create table order_lines
- create table wishlists
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        postgresql.ENUM('standard', 'gold', 'platinum', name='customer_tier').create(op.get_bind(), checkfirst=True)
        postgresql.ENUM('pending', 'paid', 'shipped', 'cancelled', name='order_status').create(op.get_bind(), checkfirst=True)
    op.create_table('authors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(200), nullable=False),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('born', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_authors')
    )
    op.create_table('books',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(320), nullable=False),
    sa.Column('title', sa.String(300), nullable=False),
    sa.Column('isbn', sa.String(13), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('in_stock', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['authors.id'], name='fk_books_author_id_authors', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name='pk_books'),
    sa.UniqueConstraint('isbn', name='uq_books_isbn'),
    sa.UniqueConstraint('slug', name='uq_books_slug')
    )
    op.create_index('ix_books_author_id', 'books', ['author_id'], unique=False)
    op.create_table('genres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_genres'),
    sa.UniqueConstraint('name', name='uq_genres_name')
    )
    op.create_table('book_genres',
    sa.Column('book_id', sa.Uuid(), nullable=False),
    sa.Column('genre_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name='fk_book_genres_book_id_books', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['genre_id'], ['genres.id'], name='fk_book_genres_genre_id_genres', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id', 'genre_id', name='pk_book_genres')
    )
    op.create_index('ix_book_genres_genre_id', 'book_genres', ['genre_id'], unique=False)
    op.create_table('customers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(320), nullable=False),
    sa.Column('name', sa.String(200), nullable=False),
    sa.Column('tier', postgresql.ENUM('standard', 'gold', 'platinum', name='customer_tier', create_type=False), server_default='standard', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_customers'),
    sa.UniqueConstraint('email', name='uq_customers_email')
    )
    op.create_table('orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('status', postgresql.ENUM('pending', 'paid', 'shipped', 'cancelled', name='order_status', create_type=False), server_default='pending', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name='fk_orders_customer_id_customers', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name='pk_orders')
    )
    op.create_index('ix_orders_customer_id_status', 'orders', ['customer_id', 'status'], unique=False)
    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('book_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name='fk_order_lines_book_id_books', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name='fk_order_lines_order_id_orders', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name='pk_order_lines')
    )
    op.create_index('ix_order_lines_book_id', 'order_lines', ['book_id'], unique=False)
    op.create_index('ix_order_lines_order_id', 'order_lines', ['order_id'], unique=False)
    op.create_table('wishlists',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('book_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name='fk_wishlists_book_id_books', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name='fk_wishlists_customer_id_customers', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id', 'customer_id', name='pk_wishlists')
    )
    op.create_index('ix_wishlists_customer_id', 'wishlists', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_table('wishlists')
    op.drop_table('order_lines')
    op.drop_table('orders')
    op.drop_table('customers')
    op.drop_table('book_genres')
    op.drop_table('genres')
    op.drop_table('books')
    op.drop_table('authors')
    if op.get_bind().dialect.name == "postgresql":
        postgresql.ENUM('standard', 'gold', 'platinum', name='customer_tier').drop(op.get_bind(), checkfirst=True)
        postgresql.ENUM('pending', 'paid', 'shipped', 'cancelled', name='order_status').drop(op.get_bind(), checkfirst=True)


# The schema after this revision: backsmith plans the next migration as the difference
# between it and the contract. If you change what upgrade() does, change this to match.
SCHEMA = {'tables': {'authors': {'columns': [{'name': 'id',
                                     'type': {'type': 'integer'},
                                     'nullable': False,
                                     'autoincrement': True},
                                    {'name': 'name',
                                     'type': {'type': 'string', 'length': 200},
                                     'nullable': False},
                                    {'name': 'bio', 'type': {'type': 'text'}, 'nullable': True},
                                    {'name': 'born',
                                     'type': {'type': 'date'},
                                     'nullable': True},
                                    {'name': 'created_at',
                                     'type': {'type': 'timestamp'},
                                     'nullable': False}],
                        'primary_key': ['id'],
                        'unique': [],
                        'indexes': [],
                        'foreign_keys': []},
            'book_genres': {'columns': [{'name': 'book_id',
                                         'type': {'type': 'uuid'},
                                         'nullable': False,
                                         'autoincrement': True},
                                        {'name': 'genre_id',
                                         'type': {'type': 'integer'},
                                         'nullable': False,
                                         'autoincrement': True}],
                            'primary_key': ['book_id', 'genre_id'],
                            'unique': [],
                            'indexes': [{'name': 'ix_book_genres_genre_id',
                                         'columns': ['genre_id'],
                                         'unique': False}],
                            'foreign_keys': [{'name': 'fk_book_genres_book_id_books',
                                              'columns': ['book_id'],
                                              'target': 'books',
                                              'target_columns': ['id'],
                                              'ondelete': 'CASCADE'},
                                             {'name': 'fk_book_genres_genre_id_genres',
                                              'columns': ['genre_id'],
                                              'target': 'genres',
                                              'target_columns': ['id'],
                                              'ondelete': 'CASCADE'}]},
            'books': {'columns': [{'name': 'id',
                                   'type': {'type': 'uuid'},
                                   'nullable': False,
                                   'autoincrement': True},
                                  {'name': 'slug',
                                   'type': {'type': 'string', 'length': 320},
                                   'nullable': False},
                                  {'name': 'title',
                                   'type': {'type': 'string', 'length': 300},
                                   'nullable': False},
                                  {'name': 'isbn',
                                   'type': {'type': 'string', 'length': 13},
                                   'nullable': False},
                                  {'name': 'author_id',
                                   'type': {'type': 'integer'},
                                   'nullable': False},
                                  {'name': 'price_cents',
                                   'type': {'type': 'integer'},
                                   'nullable': False},
                                  {'name': 'published_on',
                                   'type': {'type': 'date'},
                                   'nullable': True},
                                  {'name': 'in_stock',
                                   'type': {'type': 'boolean'},
                                   'nullable': False,
                                   'default': {'value': True}},
                                  {'name': 'tags', 'type': {'type': 'json'}, 'nullable': False},
                                  {'name': 'created_at',
                                   'type': {'type': 'timestamp'},
                                   'nullable': False},
                                  {'name': 'updated_at',
                                   'type': {'type': 'timestamp'},
                                   'nullable': False}],
                      'primary_key': ['id'],
                      'unique': [{'name': 'uq_books_isbn', 'columns': ['isbn']},
                                 {'name': 'uq_books_slug', 'columns': ['slug']}],
                      'indexes': [{'name': 'ix_books_author_id',
                                   'columns': ['author_id'],
                                   'unique': False}],
                      'foreign_keys': [{'name': 'fk_books_author_id_authors',
                                        'columns': ['author_id'],
                                        'target': 'authors',
                                        'target_columns': ['id'],
                                        'ondelete': 'RESTRICT'}]},
            'customers': {'columns': [{'name': 'id',
                                       'type': {'type': 'uuid'},
                                       'nullable': False,
                                       'autoincrement': True},
                                      {'name': 'email',
                                       'type': {'type': 'string', 'length': 320},
                                       'nullable': False},
                                      {'name': 'name',
                                       'type': {'type': 'string', 'length': 200},
                                       'nullable': False},
                                      {'name': 'tier',
                                       'type': {'type': 'enum',
                                                'values': ['standard', 'gold', 'platinum'],
                                                'name': 'customer_tier',
                                                'native': True},
                                       'nullable': False,
                                       'default': {'value': 'standard'}},
                                      {'name': 'created_at',
                                       'type': {'type': 'timestamp'},
                                       'nullable': False}],
                          'primary_key': ['id'],
                          'unique': [{'name': 'uq_customers_email', 'columns': ['email']}],
                          'indexes': [],
                          'foreign_keys': []},
            'genres': {'columns': [{'name': 'id',
                                    'type': {'type': 'integer'},
                                    'nullable': False,
                                    'autoincrement': True},
                                   {'name': 'name',
                                    'type': {'type': 'string', 'length': 64},
                                    'nullable': False}],
                       'primary_key': ['id'],
                       'unique': [{'name': 'uq_genres_name', 'columns': ['name']}],
                       'indexes': [],
                       'foreign_keys': []},
            'order_lines': {'columns': [{'name': 'id',
                                         'type': {'type': 'integer'},
                                         'nullable': False,
                                         'autoincrement': True},
                                        {'name': 'order_id',
                                         'type': {'type': 'uuid'},
                                         'nullable': False},
                                        {'name': 'book_id',
                                         'type': {'type': 'uuid'},
                                         'nullable': False},
                                        {'name': 'quantity',
                                         'type': {'type': 'integer'},
                                         'nullable': False},
                                        {'name': 'unit_price_cents',
                                         'type': {'type': 'integer'},
                                         'nullable': False}],
                            'primary_key': ['id'],
                            'unique': [],
                            'indexes': [{'name': 'ix_order_lines_book_id',
                                         'columns': ['book_id'],
                                         'unique': False},
                                        {'name': 'ix_order_lines_order_id',
                                         'columns': ['order_id'],
                                         'unique': False}],
                            'foreign_keys': [{'name': 'fk_order_lines_book_id_books',
                                              'columns': ['book_id'],
                                              'target': 'books',
                                              'target_columns': ['id'],
                                              'ondelete': 'RESTRICT'},
                                             {'name': 'fk_order_lines_order_id_orders',
                                              'columns': ['order_id'],
                                              'target': 'orders',
                                              'target_columns': ['id'],
                                              'ondelete': 'CASCADE'}]},
            'orders': {'columns': [{'name': 'id',
                                    'type': {'type': 'uuid'},
                                    'nullable': False,
                                    'autoincrement': True},
                                   {'name': 'customer_id',
                                    'type': {'type': 'uuid'},
                                    'nullable': False},
                                   {'name': 'status',
                                    'type': {'type': 'enum',
                                             'values': ['pending',
                                                        'paid',
                                                        'shipped',
                                                        'cancelled'],
                                             'name': 'order_status',
                                             'native': True},
                                    'nullable': False,
                                    'default': {'value': 'pending'}},
                                   {'name': 'note', 'type': {'type': 'text'}, 'nullable': True},
                                   {'name': 'created_at',
                                    'type': {'type': 'timestamp'},
                                    'nullable': False},
                                   {'name': 'updated_at',
                                    'type': {'type': 'timestamp'},
                                    'nullable': False}],
                       'primary_key': ['id'],
                       'unique': [],
                       'indexes': [{'name': 'ix_orders_customer_id_status',
                                    'columns': ['customer_id', 'status'],
                                    'unique': False}],
                       'foreign_keys': [{'name': 'fk_orders_customer_id_customers',
                                         'columns': ['customer_id'],
                                         'target': 'customers',
                                         'target_columns': ['id'],
                                         'ondelete': 'CASCADE'}]},
            'wishlists': {'columns': [{'name': 'customer_id',
                                       'type': {'type': 'uuid'},
                                       'nullable': False,
                                       'autoincrement': True},
                                      {'name': 'book_id',
                                       'type': {'type': 'uuid'},
                                       'nullable': False,
                                       'autoincrement': True},
                                      {'name': 'created_at',
                                       'type': {'type': 'timestamp'},
                                       'nullable': False}],
                          'primary_key': ['book_id', 'customer_id'],
                          'unique': [],
                          'indexes': [{'name': 'ix_wishlists_customer_id',
                                       'columns': ['customer_id'],
                                       'unique': False}],
                          'foreign_keys': [{'name': 'fk_wishlists_book_id_books',
                                            'columns': ['book_id'],
                                            'target': 'books',
                                            'target_columns': ['id'],
                                            'ondelete': 'CASCADE'},
                                           {'name': 'fk_wishlists_customer_id_customers',
                                            'columns': ['customer_id'],
                                            'target': 'customers',
                                            'target_columns': ['id'],
                                            'ondelete': 'CASCADE'}]}}}
