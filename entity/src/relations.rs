//! Relations between tables, one line each: `belongs_to!(Project => project(ProjectId))`.
//!
//! Every join between two tenant tables matches `organization_id` as well as the id, so that a
//! join can never pair rows of two organizations. The macro writes that pair itself instead of
//! trusting every declaration to remember it. Only the child → parent direction is declared
//! (it is the one the services join along); the migrations own the foreign keys themselves and
//! their `ON DELETE` rules.

/// `belongs_to!(Organization => organization, Project => project(ProjectId))` in a table's
/// module: the `Relation` enum, its definitions and `Related` for each parent.
/// `Organization => organization` joins `organization_id` to `organizations.id`;
/// `Project => project(ProjectId)` joins `(organization_id, project_id)` to the project's
/// `(organization_id, id)`. `belongs_to!()` declares none.
#[macro_export]
macro_rules! belongs_to {
    ($($variant:ident => $parent:ident $(($column:ident))?),* $(,)?) => {
        #[derive(Copy, Clone, Debug, EnumIter)]
        pub enum Relation {
            $($variant),*
        }

        impl RelationTrait for Relation {
            fn def(&self) -> RelationDef {
                match *self {
                    $(Relation::$variant => $crate::belongs_to!(@def $parent $($column)?),)*
                }
            }
        }

        $(impl Related<super::$parent::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::$variant.def()
            }
        })*
    };
    (@def $parent:ident) => {
        Entity::belongs_to(super::$parent::Entity)
            .from(Column::OrganizationId)
            .to(super::$parent::Column::Id)
            .into()
    };
    (@def $parent:ident $column:ident) => {
        Entity::belongs_to(super::$parent::Entity)
            .from((Column::OrganizationId, Column::$column))
            .to((super::$parent::Column::OrganizationId, super::$parent::Column::Id))
            .into()
    };
}
