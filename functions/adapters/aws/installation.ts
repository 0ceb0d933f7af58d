/**
 * The install every AWS install is unless its configuration names another (`name` "Berth", lowercased). What an
 * install names in places two installs may share (an account's target groups, a Kubernetes cluster) carries its
 * name, except the default install's: those keep the names they had before installs took theirs in, so an upgraded
 * install finds what it made.
 */
export const DEFAULT_INSTALLATION = 'berth';
